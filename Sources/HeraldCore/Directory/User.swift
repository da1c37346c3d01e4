import Foundation

/// A person of the upstream application, with the addresses Herald may reach them at.
public struct User: Sendable, Hashable, Codable {
    /// The upstream id.
    public var id: String
    /// The organization the user belongs to.
    public var organization: String
    /// A display name.
    public var name: String?
    /// The email address; used only once verified.
    public var email: String?
    /// Whether the upstream application verified `email`.
    public var emailVerified: Bool
    /// An E.164 phone number for SMS.
    public var phone: String?
    /// The Slack member id, for direct messages.
    public var slackId: String?
    /// A Microsoft Teams Workflows URL posting into the user's personal chat.
    public var msteamsWebhook: String?
    /// An IANA time zone name.
    public var timezone: String?
    /// When the user was last seen active upstream; nil when never.
    public var lastActiveAt: Date?
    /// Whether the account is active; inactive users are left out of recently-active fallthrough and deploys.
    public var isActive: Bool
    /// Whether the user wants to hear about their own activity.
    public var selfNotifications: Bool

    /// Creates a user; every optional attribute defaults to absent and the flags to an active account.
    public init(
        id: String,
        organization: String,
        name: String? = nil,
        email: String? = nil,
        emailVerified: Bool = false,
        phone: String? = nil,
        slackId: String? = nil,
        msteamsWebhook: String? = nil,
        timezone: String? = nil,
        lastActiveAt: Date? = nil,
        isActive: Bool = true,
        selfNotifications: Bool = false
    ) {
        self.id = id
        self.organization = organization
        self.name = name
        self.email = email
        self.emailVerified = emailVerified
        self.phone = phone
        self.slackId = slackId
        self.msteamsWebhook = msteamsWebhook
        self.timezone = timezone
        self.lastActiveAt = lastActiveAt
        self.isActive = isActive
        self.selfNotifications = selfNotifications
    }

    private enum CodingKeys: String, CodingKey {
        case id, organization, name, email, emailVerified, phone, slackId, msteamsWebhook, timezone
        case lastActiveAt, isActive, selfNotifications
    }

    /// Decodes the directory shape; absent flags take their defaults and `lastActiveAt` is RFC 3339.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        organization = try container.decode(String.self, forKey: .organization)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        email = try container.decodeIfPresent(String.self, forKey: .email)
        emailVerified = try container.decodeIfPresent(Bool.self, forKey: .emailVerified) ?? false
        phone = try container.decodeIfPresent(String.self, forKey: .phone)
        slackId = try container.decodeIfPresent(String.self, forKey: .slackId)
        msteamsWebhook = try container.decodeIfPresent(String.self, forKey: .msteamsWebhook)
        timezone = try container.decodeIfPresent(String.self, forKey: .timezone)
        lastActiveAt = try container.decodeTimestampIfPresent(forKey: .lastActiveAt)
        isActive = try container.decodeIfPresent(Bool.self, forKey: .isActive) ?? true
        selfNotifications = try container.decodeIfPresent(Bool.self, forKey: .selfNotifications) ?? false
    }

    /// Encodes the directory shape, writing absent attributes as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(organization, forKey: .organization)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(emailVerified, forKey: .emailVerified)
        try container.encode(phone, forKey: .phone)
        try container.encode(slackId, forKey: .slackId)
        try container.encode(msteamsWebhook, forKey: .msteamsWebhook)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(lastActiveAt.map(Timestamp.format), forKey: .lastActiveAt)
        try container.encode(isActive, forKey: .isActive)
        try container.encode(selfNotifications, forKey: .selfNotifications)
    }

    /// The user's address on a personal channel, or nil when they have none there.
    ///
    /// Email counts only once verified, so a typo upstream never mails a stranger; webhook and PagerDuty have
    /// no personal address.
    public func address(on channel: Channel) -> String? {
        switch channel {
        case .email: emailVerified ? nonEmpty(email) : nil
        case .slack: nonEmpty(slackId)
        case .msteams: nonEmpty(msteamsWebhook)
        case .sms: nonEmpty(phone)
        case .pagerduty, .webhook: nil
        }
    }

    /// The verified email in lower case, the form commit authors and ownership rules are matched against.
    public var verifiedEmailKey: String? {
        emailVerified ? nonEmpty(email)?.lowercased() : nil
    }
}

private func nonEmpty(_ text: String?) -> String? {
    guard let text, !text.isEmpty else { return nil }
    return text
}

extension KeyedDecodingContainer {
    /// Decodes an optional RFC 3339 string into a date, failing with the key's path when it does not parse.
    func decodeTimestampIfPresent(forKey key: Key) throws -> Date? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key,
                in: self,
                debugDescription: "is not an RFC 3339 timestamp"
            )
        }
        return date
    }
}
