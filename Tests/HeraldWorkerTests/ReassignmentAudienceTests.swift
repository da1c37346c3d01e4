import Foundation
import HeraldCore
import Testing

@testable import HeraldWorker

/// SPEC §5.3: the audience of an `assigned` event is computed before its subscription change, so the previous
/// assignee (user or team) hears that the issue was reassigned away from them, and only later events miss them.
@Suite("Reassignment: the previous assignee hears it")
struct ReassignmentAudienceTests {
    enum Party: Sendable, CustomStringConvertible {
        case user(String)
        case team(String)

        var json: JSONValue {
            switch self {
            case .user(let id): .object(["id": .string(id), "type": .string("user")])
            case .team(let id): .object(["id": .string(id), "type": .string("team")])
            }
        }
        var label: String {
            switch self {
            case .user(let id): "user:\(id)"
            case .team(let id): "team:\(id)"
            }
        }
        var description: String { label }
    }

    struct Case: Sendable, CustomStringConvertible {
        var previous: Party
        var next: Party
        var description: String { "\(previous) → \(next)" }
    }

    static let cases: [Case] = [
        Case(previous: .user("ann"), next: .user("ben")),
        Case(previous: .user("ben"), next: .user("ann")),
        Case(previous: .team("t2"), next: .user("ben")),
        Case(previous: .user("ann"), next: .team("t2")),
        Case(previous: .team("t2"), next: .team("t3")),
    ]

    static let base = Date(timeIntervalSince1970: 1_800_000_000)

    static func snapshot(previous: Party) -> DirectorySnapshot {
        let users = ["ann", "ben", "cy"].map {
            User(
                id: $0,
                organization: "acme",
                name: $0,
                email: "\($0)@acme.test",
                emailVerified: true,
                slackId: "U00000000\($0.count)",
                isActive: true
            )
        }
        let subscription: IssueSubscription
        switch previous {
        case .user(let id): subscription = IssueSubscription(issue: "9001", project: "p1", user: id, reason: .assigned)
        case .team(let id): subscription = IssueSubscription(issue: "9001", project: "p1", team: id, reason: .assigned)
        }
        return DirectorySnapshot(
            organizations: [Organization(id: "acme", slug: "acme", name: "Acme")],
            users: users,
            teams: [
                Team(id: "t1", organization: "acme", slug: "backend", members: ["ann", "ben", "cy"]),
                Team(id: "t2", organization: "acme", slug: "oncall", members: ["cy"], slackChannel: "C0000000200"),
                Team(id: "t3", organization: "acme", slug: "infra", members: ["ben"], slackChannel: "C0000000300"),
            ],
            projects: [Project(id: "p1", organization: "acme", slug: "backend", teams: ["t1", "t2", "t3"])],
            subscriptions: [subscription]
        )
    }

    static func event(_ key: String, id: String, data: [JSONKey: JSONValue] = [:]) -> Event {
        Event(
            id: id,
            key: key,
            organization: "acme",
            project: "backend",
            actor: Actor(id: "cy-bot"),
            issue: IssueReference(id: "9001"),
            data: data,
            occurredAt: base
        )
    }

    static func labels(_ resolution: AudienceResolution) -> Set<String> {
        Set(resolution.targets.map { "\($0.recipient.kind.rawValue):\($0.recipient.id ?? "")" })
    }

    @Test("the previous assignee is in the audience of the reassignment, not of later events", arguments: cases)
    func previousAssigneeHears(_ testCase: Case) {
        let catalog = Catalog()
        let audience = DirectoryAudience(snapshot: Self.snapshot(previous: testCase.previous))
        let assigned = audience.resolve(
            Self.event("assigned", id: "e1", data: ["assignee": testCase.next.json]),
            entry: catalog.entry(for: "assigned")!
        )
        let removed = assigned.subscriptionChanges.compactMap { change -> String? in
            guard case .remove(let row) = change else { return nil }
            return row.user.map { "user:\($0)" } ?? row.team.map { "team:\($0)" }
        }
        #expect(removed == [testCase.previous.label])
        #expect(Self.labels(assigned).contains(testCase.previous.label))
        #expect(Self.labels(assigned).contains(testCase.next.label))

        // The removal is applied once the audience is known: the next event no longer reaches them.
        let resolved = audience.resolve(Self.event("resolved", id: "e2"), entry: catalog.entry(for: "resolved")!)
        #expect(!Self.labels(resolved).contains(testCase.previous.label))
        #expect(Self.labels(resolved).contains(testCase.next.label))
    }
}
