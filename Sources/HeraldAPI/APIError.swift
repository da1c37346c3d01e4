import HTTPTypes
import HeraldCore
import Hummingbird

/// A refusal the API answers with: a status, a code of the closed set, a message and the fields at fault.
///
/// Handlers and middleware throw these; `ErrorEnvelopeMiddleware` renders every one (and every other error)
/// through `APIError.response(requestId:)`, so no handler builds an error body by hand.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: APIErrorCode
    public var message: String
    public var details: [FieldError]
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`, `Allow`, `RateLimit-*`).
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status,
        _ code: APIErrorCode,
        _ message: String,
        details: [FieldError] = [],
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code.rawValue): \(message)" }

    /// The translation key clients localise the message with, e.g. `errors.validation_failed`.
    public var i18nKey: String { "errors.\(code.rawValue.lowercased())" }

    // MARK: The common refusals

    /// 400 naming the fields at fault.
    public static func validation(_ details: [FieldError], message: String? = nil) -> APIError {
        let text = message ?? details.first.map { "\($0.field): \($0.message)" } ?? "the request is not valid"
        return APIError(.badRequest, .validationFailed, text, details: details)
    }

    /// 400 for one field.
    public static func invalid(_ field: String, _ message: String) -> APIError {
        validation([FieldError(field: field, message: message)])
    }

    /// 404 for a missing record or route.
    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, .notFound, "\(what) was not found")
    }

    /// 401 with the `WWW-Authenticate` challenge.
    public static func unauthorized(_ message: String) -> APIError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer realm=\"herald\""
        return APIError(.unauthorized, .authUnauthorized, message, headers: headers)
    }

    /// 403 for a principal that lacks the right.
    public static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, .authForbidden, message)
    }

    /// 503 when the store cannot take the request now; nothing was applied.
    public static func storeUnavailable() -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return APIError(
            .serviceUnavailable,
            .storeUnavailable,
            "the store is unavailable; nothing was applied, retry later",
            headers: headers
        )
    }

    /// A validation failure of HeraldCore as an API error, keeping its code when it is one of the API's.
    public init(_ failure: ValidationFailure) {
        let code = APIErrorCode(rawValue: failure.code) ?? .validationFailed
        let status: HTTPResponse.Status = code == .payloadTooLarge ? .contentTooLarge : .badRequest
        self.init(
            status,
            code,
            failure.details.first.map { "\($0.field): \($0.message)" } ?? "the request is not valid",
            details: failure.details
        )
    }

    /// The error for anything a handler or the store threw: API errors as they are, validation failures as 400,
    /// store trouble as 503. Anything else is a bug and answers 500 (the only path to a 500).
    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let failure as ValidationFailure: return APIError(failure)
        case let field as FieldError: return .validation([field])
        case let store as StoreError:
            switch store {
            case .unavailable: return .storeUnavailable()
            case .notFound(let what): return .notFound(what)
            case .idempotencyConflict(let index, let key):
                return APIError(
                    .conflict,
                    .idempotencyConflict,
                    "\"\(key)\" was already used for a different event",
                    details: [
                        FieldError(field: "events[\(index)].id", message: "was already used for a different event")
                    ]
                )
            }
        case let http as any HTTPResponseError:
            // Hummingbird's own refusals (no route, body too large, …).
            switch http.status {
            case .notFound: return APIError(.notFound, .notFound, "no such route")
            case .contentTooLarge: return APIError(.contentTooLarge, .payloadTooLarge, "the request body is too large")
            case .methodNotAllowed: return APIError(.methodNotAllowed, .methodNotAllowed, "method not allowed")
            default:
                if http.status.code < 500 {
                    return APIError(http.status, .validationFailed, "the request is not valid")
                }
                return APIError(.internalServerError, .internalError, "internal error")
            }
        default:
            return APIError(.internalServerError, .internalError, "internal error")
        }
    }
}
