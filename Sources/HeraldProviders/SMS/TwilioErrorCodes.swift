import HeraldCore

/// What a Twilio error code means for a delivery.
enum TwilioErrorRule: Sendable, Hashable {
    /// A retry cannot fix it.
    case permanent(FailureReason)
    /// The recipient unsubscribed (replied STOP): permanent, and the number should be suppressed.
    case unsubscribed
    /// Transient; try again after any `Retry-After`.
    case retry(FailureReason)
    /// Transient but slow to clear: retry no sooner than `TwilioErrorCodes.longDelay`.
    case retryLater(FailureReason)
}

/// Twilio's REST error codes and how Herald treats them (providers.md §4, §8).
///
/// Vendor reference: https://www.twilio.com/docs/api/errors. Codes missing here fall back to the HTTP
/// status, and unknown answers are permanent: logged for review, never looped on.
enum TwilioErrorCodes {
    /// The code of a recipient who replied STOP to this sender.
    static let unsubscribed = 21610

    /// How long a full sender queue (21611, more than 10 h of backlog) waits at least.
    static let longDelay: Double = 15 * 60

    static let rules: [Int: TwilioErrorRule] = {
        var rules: [Int: TwilioErrorRule] = [:]
        // The recipient's number is invalid, cannot take SMS, or cannot be reached from this sender.
        for code in [21211, 21614, 21635, 21612] { rules[code] = .permanent(.clientError) }
        rules[unsubscribed] = .unsubscribed
        // Geo permissions, a sender the account does not own or that cannot send SMS, a trial account.
        for code in [21408, 21606, 21601, 14102, 21608] { rules[code] = .permanent(.configuration) }
        // Body missing or too long: a rendering bug.
        for code in [21602, 21619, 21617, 21658] { rules[code] = .permanent(.invalidPayload) }
        rules[21611] = .retryLater(.rateLimited)
        rules[20003] = .permanent(.authentication)
        rules[20404] = .permanent(.configuration)
        // Too many concurrent requests: Twilio never processed it, so a retry cannot duplicate.
        rules[20429] = .retry(.rateLimited)
        return rules
    }()
}
