import HeraldCore
import Testing

@Suite("Implicit subscriptions")
struct ImplicitSubscriptionsTests {
    typealias F = Fixture

    func changes(_ event: Event, _ current: [IssueSubscription]) -> [SubscriptionChange] {
        ImplicitSubscriptions.changes(
            for: event,
            projectId: "p1",
            current: IssueSubscriptions(current),
            membersOfTeam: { $0 == "t1" ? ["u5", "u6"] : [] }
        )
    }

    func assignee(_ id: String, _ type: String = "user") -> [JSONKey: JSONValue] {
        ["assignee": .object(["id": .string(id), "type": .string(type)])]
    }

    @Test("assignment subscribes the assignee and removes the previous assignee's assigned row")
    func reassignment() {
        let previous = IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .assigned)
        let commenter = IssueSubscription(issue: "9001", project: "p1", user: "u3", reason: .comment)
        let result = changes(F.event("assigned", data: assignee("u2")), [previous, commenter])
        #expect(
            result == [
                .remove(previous),
                .subscribe(IssueSubscription(issue: "9001", project: "p1", user: "u2", reason: .assigned)),
            ]
        )
        let applied = ImplicitSubscriptions.applying(result, to: [previous, commenter])
        #expect(applied.compactMap(\.user).sorted() == ["u2", "u3"])
    }

    @Test("a team assignee subscribes the team")
    func teamAssignee() {
        let result = changes(F.event("assigned", data: assignee("t1", "team")), [])
        #expect(result == [.subscribe(IssueSubscription(issue: "9001", project: "p1", team: "t1", reason: .assigned))])
    }

    @Test("an explicit unsubscribe is never re-activated; an active row keeps its reason")
    func existingRows() {
        let unsubscribed = IssueSubscription(issue: "9001", project: "p1", user: "u2", active: false, reason: .comment)
        #expect(changes(F.event("assigned", data: assignee("u2")), [unsubscribed]).isEmpty)
        let bookmarked = IssueSubscription(issue: "9001", project: "p1", user: "u2", reason: .bookmark)
        #expect(changes(F.event("assigned", data: assignee("u2")), [bookmarked]).isEmpty)
        #expect(changes(F.event("note", actor: "u2"), [unsubscribed]).isEmpty)
    }

    @Test("a note subscribes author, mentioned users and members of mentioned teams")
    func note() {
        let event = F.event(
            "note",
            actor: "u1",
            data: ["text": .string("hi"), "mentions": .strings(["u2", "u1"]), "teamMentions": .strings(["t1"])]
        )
        let result = changes(
            event,
            [IssueSubscription(issue: "9001", project: "p1", user: "u6", active: false, reason: .comment)]
        )
        let expected: [(String, SubscriptionReason)] = [("u1", .comment), ("u2", .mentioned), ("u5", .teamMentioned)]
        #expect(
            result
                == expected.map {
                    .subscribe(IssueSubscription(issue: "9001", project: "p1", user: $0.0, reason: $0.1))
                }
        )
    }

    @Test(
        "status changes subscribe the actor",
        arguments: [
            "resolved", "resolved_in_release", "resolved_in_commit", "resolved_in_pull_request", "unresolved",
            "archived",
        ]
    )
    func statusChange(key: String) {
        #expect(
            changes(F.event(key, actor: "u1"), [])
                == [.subscribe(IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .statusChange))]
        )
        #expect(changes(F.event(key), []).isEmpty)
    }

    @Test("other keys and issue-less events change nothing")
    func nothing() {
        #expect(changes(F.event("regression", actor: "u1"), []).isEmpty)
        #expect(changes(F.event("note", actor: "u1", issue: nil), []).isEmpty)
    }

    @Test("the snapshot form skips users the directory does not know")
    func snapshotForm() {
        let snapshot = F.snapshot(users: [F.user("u1")])
        let event = F.event("note", actor: "u1", data: ["mentions": .strings(["ghost"])])
        #expect(
            ImplicitSubscriptions.changes(for: event, in: snapshot)
                == [.subscribe(IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .comment))]
        )
    }
}
