import Foundation

/// The bounded set of failure reasons; safe to use as a metric label.
public enum FailureReason: String, Sendable, Hashable, Codable, CaseIterable {
    case timeout
    case connection
    case rateLimited
    case serverError
    case clientError
    case authentication
    case invalidPayload
    case configuration
    /// Not sent because it was no longer worth sending (a one-time passcode past its expiry): never sent late.
    case expired
}

/// Whether a failed attempt may be tried again.
public enum Disposition: Sendable, Hashable {
    /// Transient: try again, not before the given time when the provider said so (`Retry-After`).
    case retry(notBefore: Date?)
    /// A retry cannot fix it: dead-letter at once.
    case permanent
}

/// A classified delivery failure. `detail` is already redacted and safe to log and store.
public struct DeliveryError: Error, Sendable, Hashable {
    public var disposition: Disposition
    public var reason: FailureReason
    /// The HTTP status or SMTP reply code, when there was one.
    public var status: Int?
    /// A short redacted explanation (provider error code, curl message).
    public var detail: String
    /// True when the request may have been applied although it failed (a retry can duplicate).
    public var ambiguous: Bool
    /// True when the provider says this address must not be messaged again (Twilio 21610: the recipient
    /// replied STOP); the address is then suppressed for future fan-outs.
    public var suppressesAddress: Bool = false

    public init(
        disposition: Disposition,
        reason: FailureReason,
        status: Int? = nil,
        detail: String,
        ambiguous: Bool = false
    ) {
        self.disposition = disposition
        self.reason = reason
        self.status = status
        self.detail = detail
        self.ambiguous = ambiguous
    }

    public static func retry(
        _ reason: FailureReason,
        status: Int? = nil,
        notBefore: Date? = nil,
        _ detail: String,
        ambiguous: Bool = false
    ) -> DeliveryError {
        DeliveryError(
            disposition: .retry(notBefore: notBefore),
            reason: reason,
            status: status,
            detail: detail,
            ambiguous: ambiguous
        )
    }

    public static func permanent(_ reason: FailureReason, status: Int? = nil, _ detail: String) -> DeliveryError {
        DeliveryError(disposition: .permanent, reason: reason, status: status, detail: detail)
    }

    /// True for retryable failures.
    public var isRetryable: Bool {
        if case .retry = disposition { return true }
        return false
    }

    /// The `Retry-After` floor, if the provider gave one.
    public var notBefore: Date? {
        if case .retry(let date) = disposition { return date }
        return nil
    }

    /// One line for logs and the store: `rateLimited status=429: ratelimited`.
    public var summary: String {
        var text = reason.rawValue
        if let status { text += " status=\(status)" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

/// The classified result of one attempt.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The provider accepted the message; `receipt` is its id for it (Slack `ts`, Twilio `sid`, …).
    case delivered(receipt: String?)
    case failed(DeliveryError)
}
