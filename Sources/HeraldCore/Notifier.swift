/// A token bucket's parameters: sustained rate and burst size.
public struct RateLimit: Sendable, Hashable, Codable {
    /// Tokens added per second; 0 turns pacing off.
    public var perSecond: Double
    /// Bucket capacity.
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Whether pacing is off.
    public var isUnlimited: Bool { perSecond <= 0 }

    /// SPEC §10 defaults per destination: Slack/Teams/webhook about 1/s with a burst, PagerDuty 120/min.
    public static func defaults(for channel: Channel) -> RateLimit {
        switch channel {
        case .slack, .msteams: RateLimit(perSecond: 1, burst: 3)
        case .webhook: RateLimit(perSecond: 10, burst: 20)
        case .pagerduty: RateLimit(perSecond: 2, burst: 10)
        case .sms: RateLimit(perSecond: 1, burst: 5)
        case .email: RateLimit(perSecond: 20, burst: 20)
        }
    }
}

/// The delivery-relevant facts of one configured notifier.
public struct NotifierInfo: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var channel: Channel
    /// Pacing per destination.
    public var rateLimit: RateLimit
    /// Attempt and age limits.
    public var retryLimits: RetryLimits

    public init(id: Int, name: String, channel: Channel, rateLimit: RateLimit? = nil, retryLimits: RetryLimits? = nil) {
        self.id = id
        self.name = name
        self.channel = channel
        self.rateLimit = rateLimit ?? RateLimit.defaults(for: channel)
        self.retryLimits = retryLimits ?? RetryLimits.defaults(for: channel)
    }
}
