/// The closed set of error codes the API answers with (SPEC §11); each is documented in `openapi.yaml`.
public enum APIErrorCode: String, Sendable, Hashable, CaseIterable, Codable {
    case validationFailed = "VALIDATION_FAILED"
    case unknownEventKey = "UNKNOWN_EVENT_KEY"
    case invalidType = "INVALID_TYPE"
    case notFound = "NOT_FOUND"
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    case conflict = "CONFLICT"
    case authUnauthorized = "AUTH_UNAUTHORIZED"
    case authForbidden = "AUTH_FORBIDDEN"
    case rateLimited = "RATE_LIMITED"
    case idempotencyConflict = "IDEMPOTENCY_CONFLICT"
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    case unsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
    case storeUnavailable = "STORE_UNAVAILABLE"
    case otpInvalid = "OTP_INVALID"
    case otpExpired = "OTP_EXPIRED"
    case otpLocked = "OTP_LOCKED"
    /// One-time passcodes need `otp.secretFile` (the HMAC key) in the configuration; answered with 503.
    case otpNotConfigured = "OTP_NOT_CONFIGURED"
    /// `/readyz`: the store is unreachable or the worker is not running.
    case notReady = "NOT_READY"
    /// A bug: the only code answered with 500. Never caused by anything a client sent.
    case internalError = "INTERNAL_ERROR"
}
