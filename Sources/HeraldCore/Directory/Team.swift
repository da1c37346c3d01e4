/// A team of an organization: a set of members plus the team's own channel addresses.
public struct Team: Sendable, Hashable, Codable {
    /// The upstream id.
    public var id: String
    /// The organization the team belongs to.
    public var organization: String
    /// The URL-safe name ownership rules refer to as `#slug`.
    public var slug: String
    /// User ids of the members, in upstream order.
    public var members: [String]
    /// A Slack channel id or incoming-webhook URL the team is reached at.
    public var slackChannel: String?
    /// A Microsoft Teams Workflows URL the team is reached at.
    public var msteamsWebhook: String?

    /// Creates a team.
    public init(
        id: String,
        organization: String,
        slug: String,
        members: [String] = [],
        slackChannel: String? = nil,
        msteamsWebhook: String? = nil
    ) {
        self.id = id
        self.organization = organization
        self.slug = slug
        self.members = members
        self.slackChannel = slackChannel
        self.msteamsWebhook = msteamsWebhook
    }

    private enum CodingKeys: String, CodingKey {
        case id, organization, slug, members, slackChannel, msteamsWebhook
    }

    /// Decodes the directory shape; absent members mean none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        organization = try container.decode(String.self, forKey: .organization)
        slug = try container.decode(String.self, forKey: .slug)
        members = try container.decodeIfPresent([String].self, forKey: .members) ?? []
        slackChannel = try container.decodeIfPresent(String.self, forKey: .slackChannel)
        msteamsWebhook = try container.decodeIfPresent(String.self, forKey: .msteamsWebhook)
    }

    /// Encodes the directory shape, writing absent addresses as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(organization, forKey: .organization)
        try container.encode(slug, forKey: .slug)
        try container.encode(members, forKey: .members)
        try container.encode(slackChannel, forKey: .slackChannel)
        try container.encode(msteamsWebhook, forKey: .msteamsWebhook)
    }

    /// The team's own address on `channel`; nil means the team is expanded into its members there.
    ///
    /// Teams never receive email, and have no SMS, webhook or PagerDuty address of their own.
    public func address(on channel: Channel) -> String? {
        switch channel {
        case .slack: slackChannel.flatMap { $0.isEmpty ? nil : $0 }
        case .msteams: msteamsWebhook.flatMap { $0.isEmpty ? nil : $0 }
        case .email, .sms, .pagerduty, .webhook: nil
        }
    }
}
