/// Why a user or team follows an issue (SPEC §5.1).
public enum SubscriptionReason: String, Sendable, Hashable, Codable, CaseIterable {
    case comment
    case assigned
    case bookmark
    case statusChange
    case mentioned
    case teamMentioned

    /// The delivery reason a subscriber is notified with.
    public var deliveryReason: DeliveryReason { DeliveryReason(rawValue) }
}

/// Who follows an issue: one row per (issue, user) or (issue, team).
///
/// An inactive row is an explicit unsubscribe; it is kept so that nothing subscribes the party again.
public struct IssueSubscription: Sendable, Hashable, Codable {
    /// The issue id, unique within the project.
    public var issue: String
    /// The project id.
    public var project: String
    /// The subscribed user, when the subscriber is a user.
    public var user: String?
    /// The subscribed team, when the subscriber is a team.
    public var team: String?
    /// False for an explicit unsubscribe.
    public var active: Bool
    /// Why the subscription exists.
    public var reason: SubscriptionReason

    /// Creates a user subscription.
    public init(issue: String, project: String, user: String, active: Bool = true, reason: SubscriptionReason) {
        self.issue = issue
        self.project = project
        self.user = user
        self.team = nil
        self.active = active
        self.reason = reason
    }

    /// Creates a team subscription.
    public init(issue: String, project: String, team: String, active: Bool = true, reason: SubscriptionReason) {
        self.issue = issue
        self.project = project
        self.user = nil
        self.team = team
        self.active = active
        self.reason = reason
    }

    private enum CodingKeys: String, CodingKey {
        case issue, project, user, team, active, reason
    }

    /// Decodes the subscription shape; `active` defaults to true.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        issue = try container.decode(String.self, forKey: .issue)
        project = try container.decode(String.self, forKey: .project)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        team = try container.decodeIfPresent(String.self, forKey: .team)
        active = try container.decodeIfPresent(Bool.self, forKey: .active) ?? true
        reason = try container.decode(SubscriptionReason.self, forKey: .reason)
    }

    /// The subscriber, or nil when the row names neither a user nor a team.
    public var subscriber: DirectoryParty? {
        if let user { return .user(user) }
        if let team { return .team(team) }
        return nil
    }
}

/// A user or a team of the directory: the two kinds of party that follow issues and own preferences.
public enum DirectoryParty: Sendable, Hashable {
    case user(String)
    case team(String)

    /// The id of the user or team.
    public var id: String {
        switch self {
        case .user(let id), .team(let id): id
        }
    }

    /// The label used in suppression records: `user:u1`, `team:t1`.
    public var label: String {
        switch self {
        case .user(let id): "user:\(id)"
        case .team(let id): "team:\(id)"
        }
    }
}

extension DirectoryParty {
    /// Reads an assignee object `{"id": …, "type": "user" | "team"}` (as in `data.assignee` of `assigned`);
    /// a missing type means a user. Nil when the value is not such an object.
    public init?(assignee value: JSONValue?) {
        guard let object = value?.objectValue, let id = object["id"]?.stringValue, !id.isEmpty else { return nil }
        switch object["type"]?.stringValue ?? "user" {
        case "user": self = .user(id)
        case "team": self = .team(id)
        default: return nil
        }
    }
}
