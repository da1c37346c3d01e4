import Foundation

/// A page request over events, newest first (`GET /api/v1/events`).
public struct EventListQuery: Sendable, Hashable {
    public var state: EventState?
    public var key: String?
    /// Only events stored before the one with this sequence number (the cursor of the previous page).
    public var after: Int64?
    public var limit: Int

    public init(state: EventState? = nil, key: String? = nil, after: Int64? = nil, limit: Int) {
        self.state = state
        self.key = key
        self.after = after
        self.limit = limit
    }
}

/// One event in a listing.
public struct EventSummary: Sendable, Hashable {
    /// The store's insertion order: the paging cursor.
    public var sequence: Int64
    public var id: String
    public var key: String
    public var state: EventState
    public var organization: String
    public var project: String?
    public var acceptedAt: Date

    public init(
        sequence: Int64,
        id: String,
        key: String,
        state: EventState,
        organization: String,
        project: String?,
        acceptedAt: Date
    ) {
        self.sequence = sequence
        self.id = id
        self.key = key
        self.state = state
        self.organization = organization
        self.project = project
        self.acceptedAt = acceptedAt
    }
}

/// A page request over deliveries, highest id (newest) first (`GET /api/v1/deliveries`).
public struct DeliveryListQuery: Sendable, Hashable {
    public var state: DeliveryState?
    public var channel: Channel?
    /// Only deliveries with an id below this one (the cursor of the previous page).
    public var before: Int64?
    public var limit: Int

    public init(state: DeliveryState? = nil, channel: Channel? = nil, before: Int64? = nil, limit: Int) {
        self.state = state
        self.channel = channel
        self.before = before
        self.limit = limit
    }
}

/// A whole directory record to remove (`DELETE /api/v1/{organizations,users,teams,projects}/{id}`,
/// `DELETE /api/v1/issues/{id}/subscriptions/{userId}`).
public enum DirectoryRecordReference: Sendable, Hashable {
    case organization(String)
    /// A user, with the preference rows they own and their issue subscriptions.
    case user(String)
    /// A team, with the preference rows it owns and its issue subscriptions.
    case team(String)
    /// A project, with its issue subscriptions.
    case project(String)
    case subscription(project: String, issue: String, party: DirectoryParty)
}
