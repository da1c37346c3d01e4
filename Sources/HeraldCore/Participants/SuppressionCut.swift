/// Members left out together for one reason, as one compact value: the fallthrough cut (SPEC §6.3) of an
/// ownerless alert on a large project leaves out thousands of members, and one `Suppression` each made fan-out
/// cost and memory grow with the project. The ids are a slice of the directory snapshot's ranking, so a cut
/// costs no copy; stores write it as one row and `herald explain` expands it.
public struct SuppressionCut: Sendable, Hashable {
    public var eventId: String
    /// The users left out, in ranking order.
    public var userIds: ArraySlice<String>
    public var reason: String

    public init(eventId: String, userIds: ArraySlice<String>, reason: String) {
        self.eventId = eventId
        self.userIds = userIds
        self.reason = reason
    }

    /// One suppression per member (`user:<id>`, on every channel), for stores and callers that want them so.
    public var suppressions: [Suppression] {
        userIds.map { Suppression(eventId: eventId, recipient: "user:" + $0, channel: nil, reason: reason) }
    }
}
