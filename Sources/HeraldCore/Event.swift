import Foundation

/// The user who performed an activity.
public struct Actor: Sendable, Hashable, Codable {
    public var id: String
    public var name: String?

    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
    }
}

/// The issue an activity is about.
public struct IssueReference: Sendable, Hashable, Codable {
    public var id: String
    public var shortId: String?
    public var title: String?
    public var url: String?
    public var level: String?
    public var culprit: String?
    public var environment: String?

    public init(
        id: String,
        shortId: String? = nil,
        title: String? = nil,
        url: String? = nil,
        level: String? = nil,
        culprit: String? = nil,
        environment: String? = nil
    ) {
        self.id = id
        self.shortId = shortId
        self.title = title
        self.url = url
        self.level = level
        self.culprit = culprit
        self.environment = environment
    }
}

/// An explicit target named by an event.
public enum RecipientSpec: Sendable, Hashable, Codable {
    /// A user of the directory, who still passes through their preferences.
    case user(String)
    /// A team of the directory.
    case team(String)
    /// A raw address on one channel, bypassing preferences; optionally through a given notifier.
    case address(channel: Channel, address: String, notifier: Int?)

    private enum CodingKeys: String, CodingKey { case user, team, channel, address, notifier }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let user = try container.decodeIfPresent(String.self, forKey: .user) {
            self = .user(user)
        } else if let team = try container.decodeIfPresent(String.self, forKey: .team) {
            self = .team(team)
        } else {
            self = .address(
                channel: try container.decode(Channel.self, forKey: .channel),
                address: try container.decode(String.self, forKey: .address),
                notifier: try container.decodeIfPresent(Int.self, forKey: .notifier)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .user(let id): try container.encode(id, forKey: .user)
        case .team(let id): try container.encode(id, forKey: .team)
        case .address(let channel, let address, let notifier):
            try container.encode(channel, forKey: .channel)
            try container.encode(address, forKey: .address)
            try container.encodeIfPresent(notifier, forKey: .notifier)
        }
    }
}

/// A validated activity event, as accepted at intake.
public struct Event: Sendable, Hashable, Codable {
    /// Herald's id for the event (the client's `id` when given).
    public var id: String
    /// The event key; always present in the catalog at intake time.
    public var key: String
    /// Organization id or slug.
    public var organization: String
    /// Project id or slug, when the key is project-scoped.
    public var project: String?
    /// Who did it; nil for system activity.
    public var actor: Actor?
    /// The issue the activity is about, for issue-scoped keys.
    public var issue: IssueReference?
    /// Key-specific fields.
    public var data: [JSONKey: JSONValue]
    /// Explicit targets.
    public var recipients: [RecipientSpec]
    /// When the activity happened (intake time when the client gave none).
    public var occurredAt: Date

    public init(
        id: String,
        key: String,
        organization: String,
        project: String? = nil,
        actor: Actor? = nil,
        issue: IssueReference? = nil,
        data: [JSONKey: JSONValue] = [:],
        recipients: [RecipientSpec] = [],
        occurredAt: Date
    ) {
        self.id = id
        self.key = key
        self.organization = organization
        self.project = project
        self.actor = actor
        self.issue = issue
        self.data = data
        self.recipients = recipients
        self.occurredAt = occurredAt
    }
}

/// An event ready to be stored: the validated event, its idempotency key and the canonical client body.
public struct NewEvent: Sendable, Hashable {
    public var event: Event
    /// The key identical re-submissions are recognised by (the client id or `Idempotency-Key`).
    public var idempotencyKey: String?
    /// The client's body in canonical form (sorted keys, defaults not filled in): equal bodies give equal bytes.
    public var canonicalBody: Data

    public init(event: Event, idempotencyKey: String?, canonicalBody: Data) {
        self.event = event
        self.idempotencyKey = idempotencyKey
        self.canonicalBody = canonicalBody
    }
}
