import HeraldCore
import Testing

/// SPEC §6.3 and §6.4 as tables: teams stand for their members on email wherever a team is chosen, and alert
/// audiences never reach anyone outside the project's active members.
@Suite("Participants: teams on email and project membership")
struct ParticipantRulesTests {
    typealias F = Fixture

    /// How a team becomes a participant of an event.
    enum TeamRole: String, CaseIterable, Sendable {
        case alertTarget, owner, alertAssignee, workflowAssignee, explicitRecipient
    }

    struct TeamCase: Sendable, CustomStringConvertible {
        var role: TeamRole
        var teamSlack: String?
        var description: String { "\(role.rawValue), team Slack \(teamSlack ?? "none")" }
    }

    static let teamCases: [TeamCase] = TeamRole.allCases.flatMap { role in
        [nil, "C0000000100"].map { TeamCase(role: role, teamSlack: $0) }
    }

    static func event(for role: TeamRole, actor: String? = nil) -> Event {
        let team: JSONValue = .object(["id": .string("t1"), "type": .string("team")])
        switch role {
        case .alertTarget:
            return F.event("issue_alert", actor: actor, data: ["target": team])
        case .owner:
            return F.event("issue_alert", actor: actor, data: ["paths": .strings(["src/app.py"])])
        case .alertAssignee:
            return F.event("issue_alert", actor: actor, data: ["assignee": team])
        case .workflowAssignee:
            return F.event("assigned", actor: actor, data: ["assignee": team])
        case .explicitRecipient:
            return F.event("payout", actor: actor, recipients: [.team("t1")])
        }
    }

    static func plan(_ event: Event, _ snapshot: DirectorySnapshot) -> AudiencePlan {
        let entry =
            event.key == "payout"
            ? CatalogEntry(
                key: "payout",
                type: NotificationType("payments"),
                description: "",
                defaults: [.email: true, .slack: true]
            )
            : F.entry(event.key)
        return ParticipantResolver().plan(for: event, entry: entry, directory: snapshot)
    }

    @Test("a team participant is expanded into its members on email", arguments: teamCases)
    func teamOnEmail(_ testCase: TeamCase) {
        let users = [
            F.user("ann"), F.user("ben"), F.user("cy", emailVerified: false), F.user("dee"),
            F.user("eve", selfNotifications: true),
        ]
        let subject =
            switch testCase.role {
            case .workflowAssignee: "workflow"
            case .explicitRecipient: "payments"
            default: "alerts"
            }
        let snapshot = F.snapshot(
            users: users,
            teamSlack: testCase.teamSlack,
            ownership: ["path:src/** #backend-team"],
            preferences: [F.row("dee", .user, "dee", subject, .email, .never)]
        )
        let plan = Self.plan(Self.event(for: testCase.role, actor: "ben"), snapshot)
        // Members stand in for the team on email, each through their own rules: ben is the actor, cy has no
        // verified email, dee turned email off; eve wants her own activity but is not the actor.
        #expect(plan.userIds(on: .email) == ["ann", "eve"])
        #expect(plan.targets.filter { $0.kind == .team && $0.channel == .email }.isEmpty)
        #expect(plan.reasons(for: "user:ben") == [SuppressionReason.actorExcluded])
        #expect(plan.reasons(for: "user:cy").contains("no_address:email"))
        #expect(!plan.suppressions.contains { $0.reason == "team_no_email" })
        if let channel = testCase.teamSlack {
            // The team keeps its own Slack channel; its members are not messaged there.
            #expect(plan.targets(on: .slack).map(\.address) == [channel])
            #expect(plan.targets(on: .slack).allSatisfy { $0.kind == .team })
        } else {
            #expect(plan.userIds(on: .slack) == ["ann", "cy", "dee", "eve"])
        }
    }

    @Test("a member who also qualifies directly gets one email", arguments: [TeamRole.owner, .alertTarget])
    func teamAndMemberDeduplicated(_ role: TeamRole) {
        var event = Self.event(for: role)
        event.data["assignee"] = .object(["id": .string("ann"), "type": .string("user")])
        let snapshot = F.snapshot(
            users: [F.user("ann"), F.user("ben")],
            ownership: ["path:src/** #backend-team"]
        )
        let plan = Self.plan(event, snapshot)
        #expect(plan.targets(on: .email).map(\.id).sorted() == ["ann", "ben"])
    }

    struct OutsiderCase: Sendable, CustomStringConvertible {
        var name: String
        var data: [JSONKey: JSONValue]
        var ownership: [String] = []
        var subscriptions: [IssueSubscription] = []
        var recipient: String
        var reason: String
        var description: String { name }
    }

    static func member(_ id: String) -> JSONValue { .object(["type": .string("member"), "id": .string(id)]) }
    static func user(_ id: String) -> JSONValue { .object(["type": .string("user"), "id": .string(id)]) }
    static let paths: JSONValue = .strings(["src/app.py"])

    static let outsiderCases: [OutsiderCase] = [
        OutsiderCase(
            name: "member target on no project team",
            data: ["target": member("zoe")],
            recipient: "user:zoe",
            reason: SuppressionReason.notProjectMember
        ),
        OutsiderCase(
            name: "member target inactive",
            data: ["target": member("old")],
            recipient: "user:old",
            reason: SuppressionReason.inactiveMember
        ),
        OutsiderCase(
            name: "owner by email on no project team",
            data: ["paths": paths],
            ownership: ["path:src/** zoe@acme.test"],
            recipient: "user:zoe",
            reason: SuppressionReason.notProjectMember
        ),
        OutsiderCase(
            name: "owner by email inactive",
            data: ["paths": paths],
            ownership: ["path:src/** old@acme.test"],
            recipient: "user:old",
            reason: SuppressionReason.inactiveMember
        ),
        OutsiderCase(
            name: "owner team without access to the project",
            data: ["paths": paths],
            ownership: ["path:src/** #outsiders"],
            recipient: "team:t9",
            reason: SuppressionReason.notProjectTeam
        ),
        OutsiderCase(
            name: "team target without access to the project",
            data: ["target": .object(["type": .string("team"), "id": .string("t9")])],
            recipient: "team:t9",
            reason: SuppressionReason.notProjectTeam
        ),
        OutsiderCase(
            name: "assignee from data on no project team",
            data: ["assignee": user("zoe")],
            recipient: "user:zoe",
            reason: SuppressionReason.notProjectMember
        ),
        OutsiderCase(
            name: "assignee from a subscription, inactive",
            data: [:],
            subscriptions: [IssueSubscription(issue: "9001", project: "p1", user: "old", reason: .assigned)],
            recipient: "user:old",
            reason: SuppressionReason.inactiveMember
        ),
        OutsiderCase(
            name: "allMembers fallthrough skips an inactive member",
            data: ["fallthrough": .string("allMembers")],
            recipient: "user:old",
            reason: SuppressionReason.inactiveMember
        ),
    ]

    @Test("alert audiences are restricted to the project's active members", arguments: outsiderCases)
    func outsiders(_ testCase: OutsiderCase) {
        // zoe is a user of the organization on no project team (only on t9, which has its own Slack channel);
        // old is on the project's team but inactive.
        let users = [F.user("ann"), F.user("zoe"), F.user("old", isActive: false)]
        // zoe is not on the project's team: t1 holds ann and old only.
        let snapshot = F.snapshot(
            users: users,
            extraTeams: [
                Team(id: "t9", organization: "acme", slug: "outsiders", members: ["zoe"], slackChannel: "C0000000999")
            ],
            ownership: testCase.ownership,
            subscriptions: testCase.subscriptions,
            teamMembers: ["ann", "old"]
        )
        let plan = F.plan(F.event("issue_alert", data: testCase.data), snapshot)
        let outsider = String(testCase.recipient.split(separator: ":")[1])
        #expect(!plan.targets.contains { $0.id == outsider })
        #expect(!plan.targets.contains { $0.address == "C0000000999" || $0.address == "zoe@acme.test" })
        #expect(plan.reasons(for: testCase.recipient) == [testCase.reason])
        // When the only owner found is an outsider, the fallthrough still reaches the project's members.
        if testCase.data["target"] == nil {
            #expect(plan.userIds == ["ann"])
        }
    }

    @Test("explicit recipients of custom keys are not restricted to project members")
    func explicitRecipientsUnrestricted() {
        let snapshot = F.snapshot(users: [F.user("ann"), F.user("zoe")], teamMembers: ["ann"])
        let plan = Self.plan(F.event("payout", recipients: [.user("zoe")]), snapshot)
        #expect(plan.userIds == ["zoe"])
    }
}
