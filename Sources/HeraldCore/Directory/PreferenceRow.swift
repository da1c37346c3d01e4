/// One stored notification setting of a user or team (SPEC §8.1).
///
/// A row without a channel is an *option row*: its value is the option (`always`, `never`, `subscribeOnly`,
/// `committedOnly`). A row with a channel switches that channel on (`always`) or off (`never`).
public struct PreferenceRow: Sendable, Hashable, Codable {
    /// The owning user, when the owner is a user.
    public var user: String?
    /// The owning team, when the owner is a team.
    public var team: String?
    /// Where the row applies.
    public var scope: PreferenceScope
    /// The user/team id, organization id or project id the scope names.
    public var scopeId: String
    /// A notification type (`workflow`) or a single event key (`assigned`).
    public var subject: String
    /// The channel switched by the row; nil for the option value across all channels.
    public var channel: Channel?
    /// The option value, or on/off for channel rows.
    public var value: PreferenceValue

    /// Creates a row for `owner`.
    public init(
        owner: DirectoryParty,
        scope: PreferenceScope,
        scopeId: String,
        subject: String,
        channel: Channel? = nil,
        value: PreferenceValue
    ) {
        switch owner {
        case .user(let id):
            user = id
            team = nil
        case .team(let id):
            user = nil
            team = id
        }
        self.scope = scope
        self.scopeId = scopeId
        self.subject = subject
        self.channel = channel
        self.value = value
    }

    private enum CodingKeys: String, CodingKey {
        case user, team, scope, scopeId, subject, channel, value
    }

    /// Decodes the row shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        team = try container.decodeIfPresent(String.self, forKey: .team)
        scope = try container.decode(PreferenceScope.self, forKey: .scope)
        scopeId = try container.decode(String.self, forKey: .scopeId)
        subject = try container.decode(String.self, forKey: .subject)
        channel = try container.decodeIfPresent(Channel.self, forKey: .channel)
        value = try container.decode(PreferenceValue.self, forKey: .value)
    }

    /// Encodes the row shape, writing the absent owner and an all-channel row's channel as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let team {
            try container.encode(team, forKey: .team)
        } else {
            try container.encode(user, forKey: .user)
        }
        try container.encode(scope, forKey: .scope)
        try container.encode(scopeId, forKey: .scopeId)
        try container.encode(subject, forKey: .subject)
        try container.encode(channel, forKey: .channel)
        try container.encode(value, forKey: .value)
    }

    /// The owner, or nil when the row names neither a user nor a team.
    public var owner: DirectoryParty? {
        if let user { return .user(user) }
        if let team { return .team(team) }
        return nil
    }

    /// The identity of the row: two rows with the same identity are the same setting (the later replaces).
    public var identity: PreferenceRowIdentity {
        PreferenceRowIdentity(
            user: user,
            team: team,
            scope: scope,
            scopeId: scopeId,
            subject: subject,
            channel: channel
        )
    }
}

/// Everything of a preference row but its value: what an upsert is keyed by.
public struct PreferenceRowIdentity: Sendable, Hashable {
    public var user: String?
    public var team: String?
    public var scope: PreferenceScope
    public var scopeId: String
    public var subject: String
    public var channel: Channel?
}
