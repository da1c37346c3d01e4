/// The reasons recorded for recipients left out (SPEC §2, §6).
public enum SuppressionReason {
    /// The recipient's option value for the key is `never`.
    public static let preferenceNever = "preference:never"
    /// A workflow key with `subscribeOnly` on an issue the recipient does not subscribe to.
    public static let preferenceSubscribeOnly = "preference:subscribeOnly"
    /// A deploy with `committedOnly` that carries none of the recipient's commits.
    public static let preferenceCommittedOnly = "preference:committedOnly"
    /// The recipient is the actor and does not want their own activity.
    public static let actorExcluded = "actor_excluded"
    /// The recipient explicitly unsubscribed from the issue.
    public static let unsubscribed = "unsubscribed"
    /// The recipient was cut by the fallthrough limit before preferences.
    public static let fallthroughLimit = "fallthrough_limit"
    /// An alert target, owner or fallthrough candidate who is on none of the project's teams (SPEC §6.3).
    public static let notProjectMember = "not_project_member"
    /// An alert target, owner or fallthrough candidate on the project's teams whose account is not active.
    public static let inactiveMember = "inactive_member"
    /// A team chosen as an alert target or owner that has no access to the project.
    public static let notProjectTeam = "not_project_team"
    /// An explicit recipient the directory does not know (in the event's organization).
    public static let unknownRecipient = "unknown_recipient"

    /// The recipient has no address on an enabled channel: `no_address:sms`.
    public static func noAddress(_ channel: Channel) -> String { "no_address:\(channel.rawValue)" }
}

/// One personal delivery fan-out should create: a user or team on one channel, with its address.
public struct AudienceTarget: Sendable, Hashable {
    /// `.user` or `.team`.
    public var kind: Recipient.Kind
    /// The user or team id.
    public var id: String
    /// The channel.
    public var channel: Channel
    /// Why the recipient gets it.
    public var reason: DeliveryReason
    /// The address on `channel`: an email, a Slack id or webhook URL, a phone number, a Teams URL.
    public var address: String
    /// The user's name or the team's slug, for rendering.
    public var name: String?

    /// Creates a target.
    public init(
        kind: Recipient.Kind,
        id: String,
        channel: Channel,
        reason: DeliveryReason,
        address: String,
        name: String? = nil
    ) {
        self.kind = kind
        self.id = id
        self.channel = channel
        self.reason = reason
        self.address = address
        self.name = name
    }

    /// The recipient of the delivery.
    public var recipient: Recipient { Recipient(kind: kind, id: id, address: address, name: name) }
}

/// Who hears about one event personally, and who was left out and why.
public struct AudiencePlan: Sendable, Hashable {
    /// At most one target per (recipient, channel), in the order found.
    public var targets: [AudienceTarget]
    /// Recipients left out, at most one record per (recipient, channel, reason), besides those in `cuts`.
    public var suppressions: [Suppression]
    /// Members left out together (the fallthrough cut), kept compact.
    public var cuts: [SuppressionCut]

    /// Creates a plan.
    public init(targets: [AudienceTarget] = [], suppressions: [Suppression] = [], cuts: [SuppressionCut] = []) {
        self.targets = targets
        self.suppressions = suppressions
        self.cuts = cuts
    }

    /// Every recipient left out: `suppressions`, then the members of each cut.
    public var allSuppressions: [Suppression] { suppressions + cuts.flatMap(\.suppressions) }

    /// The targets on `channel`.
    public func targets(on channel: Channel) -> [AudienceTarget] { targets.filter { $0.channel == channel } }
}
