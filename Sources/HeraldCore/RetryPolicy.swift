import Foundation

/// How long and how often a channel's deliveries are retried.
public struct RetryLimits: Sendable, Hashable, Codable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    /// How long after the delivery was created retrying stops.
    public var maxAge: TimeInterval

    public init(maxAttempts: Int, maxAge: TimeInterval) {
        self.maxAttempts = maxAttempts
        self.maxAge = maxAge
    }

    /// SPEC §10 defaults: chat 8 attempts or 1 h, PagerDuty 12 or 4 h, email 12 or 24 h, SMS 5 or 30 min.
    public static func defaults(for channel: Channel) -> RetryLimits {
        switch channel {
        case .slack, .msteams, .webhook: RetryLimits(maxAttempts: 8, maxAge: 3600)
        case .pagerduty: RetryLimits(maxAttempts: 12, maxAge: 4 * 3600)
        case .email: RetryLimits(maxAttempts: 12, maxAge: 24 * 3600)
        case .sms: RetryLimits(maxAttempts: 5, maxAge: 1800)
        }
    }
}

/// What to do after a failed attempt.
public enum RetryDecision: Sendable, Hashable {
    /// Try again at the given time.
    case retry(at: Date)
    /// Give up: the delivery becomes a dead letter.
    case deadLetter
}

/// Exponential backoff with full jitter, with the provider's `Retry-After` as a floor.
public struct RetryPolicy: Sendable {
    /// The first backoff ceiling (SPEC §10: 1 s).
    public var base: TimeInterval
    /// The largest backoff ceiling (SPEC §10: 5 min).
    public var cap: TimeInterval
    /// The longest `Retry-After` honoured; longer values are clamped (a parked key would alert instead).
    public var maxRetryAfter: TimeInterval

    public init(base: TimeInterval = 1, cap: TimeInterval = 300, maxRetryAfter: TimeInterval = 900) {
        self.base = base
        self.cap = cap
        self.maxRetryAfter = maxRetryAfter
    }

    /// The backoff ceiling before attempt number `attempt + 1` (attempt counts from 1).
    public func ceiling(afterAttempt attempt: Int) -> TimeInterval {
        let exponent = Double(max(0, min(attempt - 1, 30)))
        return min(cap, base * pow(2, exponent))
    }

    /// Decides after attempt number `attempt` (1-based) of a delivery created at `createdAt` failed with `error`.
    /// `random` draws the jitter, a value in 0..<1.
    public func decide(
        error: DeliveryError,
        attempt: Int,
        createdAt: Date,
        limits: RetryLimits,
        now: Date,
        random: () -> Double
    ) -> RetryDecision {
        guard case .retry(let notBefore) = error.disposition else { return .deadLetter }
        guard attempt < limits.maxAttempts else { return .deadLetter }
        var next = now.addingTimeInterval(ceiling(afterAttempt: attempt) * min(max(random(), 0), 1))
        if let notBefore {
            let floor = min(notBefore, now.addingTimeInterval(maxRetryAfter))
            if floor > next { next = floor }
        }
        guard next.timeIntervalSince(createdAt) <= limits.maxAge else { return .deadLetter }
        return .retry(at: next)
    }
}

/// Parses `Retry-After` values (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
public enum RetryAfter {
    /// The absolute time `value` designates, received at `now`; nil when absent or unparsable.
    /// Dates in the past clamp to `now`.
    public static func parse(_ value: String?, now: Date) -> Date? {
        guard let raw = value?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        if raw.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let seconds = Double(raw) else { return nil }
            return now.addingTimeInterval(seconds)
        }
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: raw) {
                return max(date, now)
            }
        }
        return nil
    }
}
