import HeraldCore
import Testing

@Suite("Participants: issue alerts and the fallthrough rule")
struct AlertParticipantTests {
    typealias F = Fixture

    /// `count` active users u00…, u00 the most recently active.
    func members(_ count: Int) -> [User] {
        (0..<count).map { F.user(String(format: "u%02d", $0), minutesAgo: $0 + 1) }
    }

    @Test("fallthrough to active members is capped before preferences", arguments: [(27, 20), (12, 12), (20, 20)])
    func activeMembersCap(eligible: Int, expected: Int) {
        let plan = F.plan(F.event("issue_alert"), F.snapshot(users: members(eligible)))
        let chosen = members(eligible).prefix(expected).map(\.id)
        #expect(plan.userIds(on: .email) == chosen.sorted())
        #expect(plan.userIds(on: .slack) == chosen.sorted())
        #expect(plan.targets.allSatisfy { $0.reason == .activeMembers })
        let cut = plan.allSuppressions.filter { $0.reason == SuppressionReason.fallthroughLimit }.map(\.recipient)
        #expect(cut.sorted() == members(eligible).dropFirst(expected).map { "user:\($0.id)" })
    }

    @Test("inactive users are skipped, never-active users rank last, ties by id")
    func recencyOrder() {
        var users = [
            F.user("a", minutesAgo: nil), F.user("b", minutesAgo: 5), F.user("c", minutesAgo: 5),
            F.user("d", minutesAgo: 1, isActive: false), F.user("e", minutesAgo: 9),
        ]
        users.append(F.user("f", minutesAgo: nil))
        let plan = F.plan(F.event("issue_alert"), F.snapshot(users: users), limit: 3)
        #expect(plan.userIds(on: .email) == ["b", "c", "e"])
        #expect(plan.reasons(for: "user:a") == [SuppressionReason.fallthroughLimit])
        #expect(plan.reasons(for: "user:d").isEmpty)
    }

    @Test("a never preference among the 20 leaves 19, with no refill")
    func neverAmongTwenty() {
        let users = members(27)
        let rows = [F.row("u05", .user, "u05", "alerts", nil, .never)]
        let plan = F.plan(F.event("issue_alert"), F.snapshot(users: users, preferences: rows))
        #expect(plan.userIds(on: .email).count == 19)
        #expect(!plan.userIds.contains("u05"))
        #expect(!plan.userIds.contains("u20"))
        #expect(plan.reasons(for: "user:u05") == [SuppressionReason.preferenceNever])
    }

    @Test("allMembers is uncapped and noOne notifies nobody")
    func otherFallthroughs() {
        let users = members(27)
        let all = F.plan(F.event("issue_alert"), F.snapshot(users: users, fallthrough: .allMembers))
        #expect(all.userIds(on: .email).count == 27)
        #expect(all.targets.allSatisfy { $0.reason == .allMembers })
        let none = F.plan(F.event("issue_alert"), F.snapshot(users: users, fallthrough: .noOne))
        #expect(none.targets.isEmpty)
    }

    @Test("the event's fallthrough overrides the project's")
    func fallthroughOverride() {
        let snapshot = F.snapshot(users: members(27), fallthrough: .noOne)
        let plan = F.plan(F.event("issue_alert", data: ["fallthrough": .string("allMembers")]), snapshot)
        #expect(plan.userIds(on: .email).count == 27)
    }

    @Test("ownership: the last matching rule decides, and fallthrough is not used")
    func ownershipLastMatch() {
        let users = [F.user("ann"), F.user("bob"), F.user("cat")]
        let snapshot = F.snapshot(
            users: users,
            extraTeams: [Team(id: "t2", organization: "acme", slug: "billing", members: ["cat"])],
            ownership: ["path:src/** ann@acme.test", "path:src/billing/** bob@acme.test", "url:*/nothing/* #billing"]
        )
        let event = F.event("issue_alert", data: ["paths": .strings(["src/billing/pay.py"])])
        let plan = F.plan(event, snapshot)
        #expect(plan.userIds == ["bob"])
        #expect(plan.targets.allSatisfy { $0.reason == .ownership })
        #expect(plan.suppressions.isEmpty)
    }

    @Test("a team owner without Slack channel is expanded into its members, on email too")
    func teamOwner() {
        let users = [F.user("ann"), F.user("cat")]
        let snapshot = F.snapshot(
            users: users,
            extraTeams: [Team(id: "t2", organization: "acme", slug: "billing", members: ["cat"])],
            projectTeams: ["t1", "t2"],
            ownership: ["path:src/** #billing"]
        )
        let plan = F.plan(F.event("issue_alert", data: ["paths": .strings(["src/a.py"])]), snapshot)
        #expect(plan.userIds(on: .slack) == ["cat"])
        #expect(plan.userIds(on: .email) == ["cat"])
        #expect(plan.suppressions.isEmpty)
    }

    @Test("the issue's assignee is added to owners, from data or from an assigned subscription")
    func assigneeAsOwner() {
        let users = [F.user("ann"), F.user("bob")]
        let fromData = F.plan(
            F.event("issue_alert", data: ["assignee": .object(["id": .string("bob"), "type": .string("user")])]),
            F.snapshot(users: users)
        )
        #expect(fromData.userIds == ["bob"])
        #expect(fromData.targets.allSatisfy { $0.reason == .assigned })
        let fromSubscription = F.plan(
            F.event("issue_alert"),
            F.snapshot(
                users: users,
                subscriptions: [IssueSubscription(issue: "9001", project: "p1", user: "ann", reason: .assigned)]
            )
        )
        #expect(fromSubscription.userIds == ["ann"])
    }

    @Test("member and team targets")
    func memberAndTeamTargets() {
        let users = [F.user("ann"), F.user("bob")]
        let outsider = Team(
            id: "t9",
            organization: "acme",
            slug: "outsiders",
            members: ["bob"],
            slackChannel: "C0000000999"
        )
        let snapshot = F.snapshot(users: users, teamSlack: "C0000000100", extraTeams: [outsider])
        func target(_ type: String, _ id: String) -> Event {
            F.event("issue_alert", data: ["target": .object(["type": .string(type), "id": .string(id)])])
        }
        #expect(F.plan(target("member", "ann"), snapshot).userIds == ["ann"])
        #expect(F.plan(target("member", "zed"), snapshot).targets.isEmpty)
        let team = F.plan(target("team", "t1"), snapshot)
        let teamTargets = team.targets.filter { $0.kind == .team }
        #expect(teamTargets.map(\.id) == ["t1"])
        #expect(teamTargets.first?.address == "C0000000100")
        #expect(team.targets.allSatisfy { $0.reason == .alertTarget })
        // On email the team stands for its members (SPEC §6.4).
        #expect(team.userIds(on: .email) == ["ann", "bob"])
        #expect(F.plan(target("team", "t9"), snapshot).targets.isEmpty)
    }

    @Test("a project without teams notifies nobody")
    func noTeams() {
        let plan = F.plan(F.event("issue_alert"), F.snapshot(users: members(3), projectTeams: []))
        #expect(plan.targets.isEmpty && plan.suppressions.isEmpty)
    }

    @Test("5,000 members with no owners give exactly 20 targets per enabled channel")
    func fiveThousandMembers() {
        let users = (0..<5000).map { index in
            F.user("m\(index)", minutesAgo: (index * 7919) % 5000 + 1)
        }
        let plan = F.plan(F.event("issue_alert"), F.snapshot(users: users))
        #expect(plan.targets(on: .email).count == 20)
        #expect(plan.targets(on: .slack).count == 20)
        #expect(plan.targets(on: .sms).isEmpty)
        #expect(plan.allSuppressions.count == 4980)
        #expect(plan.cuts.map(\.userIds.count) == [4980])
        let expected = users.sorted { $0.lastActiveAt! > $1.lastActiveAt! }.prefix(20).map(\.id).sorted()
        #expect(plan.userIds(on: .email) == expected)
    }
}

@Suite("Participants: workflow subscribers")
struct WorkflowParticipantTests {
    typealias F = Fixture

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var subscription: IssueSubscription?
        var value: PreferenceValue?
        var included: Bool
        var suppression: String?
        var description: String { name }
    }

    static let sub = IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .bookmark)
    static let unsub = IssueSubscription(issue: "9001", project: "p1", user: "u1", active: false, reason: .bookmark)

    @Test(
        "subscription × preference",
        arguments: [
            Case(
                name: "subscribed, default subscribeOnly",
                subscription: sub,
                value: nil,
                included: true,
                suppression: nil
            ),
            Case(name: "subscribed, always", subscription: sub, value: .always, included: true, suppression: nil),
            Case(
                name: "subscribed, never",
                subscription: sub,
                value: .never,
                included: false,
                suppression: "preference:never"
            ),
            Case(name: "no row, always", subscription: nil, value: .always, included: true, suppression: nil),
            Case(
                name: "no row, subscribeOnly",
                subscription: nil,
                value: .subscribeOnly,
                included: false,
                suppression: "preference:subscribeOnly"
            ),
            Case(
                name: "no row, never",
                subscription: nil,
                value: .never,
                included: false,
                suppression: "preference:never"
            ),
            Case(
                name: "unsubscribed beats always",
                subscription: unsub,
                value: .always,
                included: false,
                suppression: "unsubscribed"
            ),
        ]
    )
    func subscriberRule(_ testCase: Case) {
        let rows = testCase.value.map { [F.row("u1", .user, "u1", "workflow", nil, $0)] } ?? []
        let snapshot = F.snapshot(
            users: [F.user("u1")],
            subscriptions: testCase.subscription.map { [$0] } ?? [],
            preferences: rows
        )
        let plan = F.plan(F.event("resolved"), snapshot)
        #expect(plan.userIds == (testCase.included ? ["u1"] : []))
        #expect(plan.reasons(for: "user:u1") == (testCase.suppression.map { [$0] } ?? []))
        if testCase.included {
            let expected: DeliveryReason = testCase.subscription == nil ? .implicit : .bookmark
            #expect(plan.targets.allSatisfy { $0.reason == expected })
        }
    }

    @Test("the actor is excluded unless they want their own activity")
    func actorExclusion() {
        let subscriptions = ["u1", "u2"].map {
            IssueSubscription(issue: "9001", project: "p1", user: $0, reason: .comment)
        }
        let excluded = F.plan(
            F.event("note", actor: "u1"),
            F.snapshot(users: [F.user("u1"), F.user("u2")], subscriptions: subscriptions)
        )
        #expect(excluded.userIds == ["u2"])
        #expect(excluded.reasons(for: "user:u1") == [SuppressionReason.actorExcluded])
        let included = F.plan(
            F.event("note", actor: "u1"),
            F.snapshot(users: [F.user("u1", selfNotifications: true), F.user("u2")], subscriptions: subscriptions)
        )
        #expect(included.userIds == ["u1", "u2"])
    }

    @Test("a team assignee on assigned notifies the team itself")
    func teamAssignee() {
        let snapshot = F.snapshot(users: [F.user("u1"), F.user("u2")], teamSlack: "C0000000100")
        let event = F.event("assigned", data: ["assignee": .object(["id": .string("t1"), "type": .string("team")])])
        let plan = F.plan(event, snapshot)
        #expect(
            plan.targets.filter { $0.kind == .team } == [
                AudienceTarget(
                    kind: .team,
                    id: "t1",
                    channel: .slack,
                    reason: .assigned,
                    address: "C0000000100",
                    name: "backend-team"
                )
            ]
        )
        #expect(plan.userIds(on: .email) == ["u1", "u2"])
        #expect(plan.targets(on: .email).allSatisfy { $0.reason == .assigned })
        #expect(plan.suppressions.isEmpty)
    }

    @Test("a team assignee without Slack channel is expanded into its members on Slack")
    func teamAssigneeExpanded() {
        let snapshot = F.snapshot(users: [F.user("u1"), F.user("u2", slackId: nil)])
        let event = F.event("assigned", data: ["assignee": .object(["id": .string("t1"), "type": .string("team")])])
        let plan = F.plan(event, snapshot)
        #expect(plan.userIds(on: .slack) == ["u1"])
        #expect(plan.userIds(on: .email) == ["u1", "u2"])
        #expect(plan.reasons(for: "user:u2") == ["no_address:slack"])
    }

    @Test("a user mutes assigned email while keeping note email")
    func muteAssigned() {
        let subscriptions = [IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .assigned)]
        let rows = [F.row("u1", .user, "u1", "assigned", .email, .never)]
        let snapshot = F.snapshot(users: [F.user("u1")], subscriptions: subscriptions, preferences: rows)
        let assigned = F.plan(
            F.event("assigned", data: ["assignee": .object(["id": .string("u1"), "type": .string("user")])]),
            snapshot
        )
        #expect(assigned.targets.map(\.channel) == [.slack])
        let note = F.plan(F.event("note"), snapshot)
        #expect(note.targets.map(\.channel) == [.email, .slack])
    }

    @Test("project rows beat organization rows beat user rows")
    func scopeOrder() {
        let subscriptions = [IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .comment)]
        func plan(_ rows: [PreferenceRow]) -> AudiencePlan {
            F.plan(F.event("note"), F.snapshot(users: [F.user("u1")], subscriptions: subscriptions, preferences: rows))
        }
        let user = F.row("u1", .user, "u1", "note", .email, .never)
        let organization = F.row("u1", .organization, "acme", "note", .email, .always)
        let project = F.row("u1", .project, "p1", "note", .email, .never)
        #expect(plan([user]).userIds(on: .email).isEmpty)
        #expect(plan([user, organization]).userIds(on: .email) == ["u1"])
        #expect(plan([project, user, organization]).userIds(on: .email).isEmpty)
    }

    @Test("no address for an enabled channel is recorded; unverified email counts as none; webhook is silent")
    func noAddress() {
        let rows = [
            F.row("u1", .user, "u1", "workflow", .sms, .always),
            F.row("u1", .user, "u1", "workflow", .webhook, .always),
        ]
        let subscriptions = [IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .comment)]
        let snapshot = F.snapshot(
            users: [F.user("u1", emailVerified: false, phone: nil)],
            subscriptions: subscriptions,
            preferences: rows
        )
        let plan = F.plan(F.event("note"), snapshot)
        #expect(plan.targets.map(\.channel) == [.slack])
        #expect(plan.reasons(for: "user:u1") == ["no_address:email", "no_address:sms"])
    }

    @Test("route-only keys have no personal audience")
    func routeOnly() {
        let snapshot = F.snapshot(
            users: [F.user("u1")],
            preferences: [F.row("u1", .user, "u1", "workflow", nil, .always)]
        )
        #expect(F.plan(F.event("resolved_by_age", recipients: [.user("u1")]), snapshot) == AudiencePlan())
        #expect(F.plan(F.event("external_issue_created"), snapshot) == AudiencePlan())
    }

    @Test("a subscribed team is a workflow candidate")
    func subscribedTeam() {
        let snapshot = F.snapshot(
            users: [F.user("u1")],
            teamSlack: "C0000000100",
            subscriptions: [
                IssueSubscription(issue: "9001", project: "p1", team: "t1", reason: .assigned),
                IssueSubscription(issue: "9001", project: "p1", user: "u1", active: false, reason: .comment),
            ]
        )
        let plan = F.plan(F.event("resolved"), snapshot)
        #expect(plan.targets.map(\.id) == ["t1"])
        #expect(plan.reasons(for: "user:u1") == ["unsubscribed"])
    }
}

@Suite("Participants: deploys and explicit recipients")
struct DeployAndExplicitParticipantTests {
    typealias F = Fixture

    func deploy(commits: [String], projects: [String] = []) -> Event {
        F.event(
            "deploy",
            issue: nil,
            data: [
                "version": .string("2.4.0"), "environment": .string("production"), "deployId": .string("d1"),
                "commits": .array(commits.map { .object(["authorEmail": .string($0)]) }),
                "projects": .strings(projects),
            ]
        )
    }

    @Test(
        "committedOnly matches commit author emails case-insensitively",
        arguments: [(["U1@ACME.test"], ["u1"]), (["someone@else.test"], []), ([], [])]
    )
    func committedOnly(commits: [String], expected: [String]) {
        let plan = F.plan(deploy(commits: commits), F.snapshot(users: [F.user("u1"), F.user("u2")]))
        #expect(plan.userIds == expected)
        #expect(plan.targets.allSatisfy { $0.reason == .committed })
        #expect(plan.reasons(for: "user:u2") == ["preference:committedOnly"])
    }

    @Test("always → deploySetting; never → excluded; inactive or unverified users are not candidates")
    func deploySettings() {
        let users = [F.user("u1"), F.user("u2"), F.user("u3", isActive: false), F.user("u4", emailVerified: false)]
        let rows = [
            F.row("u1", .organization, "acme", "deploy", nil, .always),
            F.row("u2", .user, "u2", "deploy", nil, .never),
            F.row("u3", .user, "u3", "deploy", nil, .always),
            F.row("u4", .user, "u4", "deploy", nil, .always),
        ]
        let plan = F.plan(deploy(commits: ["u2@acme.test"]), F.snapshot(users: users, preferences: rows))
        #expect(plan.userIds == ["u1"])
        #expect(plan.targets.allSatisfy { $0.reason == .deploySetting })
        #expect(plan.reasons(for: "user:u2") == ["preference:never"])
        #expect(plan.reasons(for: "user:u3").isEmpty && plan.reasons(for: "user:u4").isEmpty)
    }

    @Test("the release's other projects contribute their teams' members")
    func releaseProjects() {
        let base = F.snapshot(users: [F.user("u1")])
        let other = User(id: "u9", organization: "acme", email: "u9@acme.test", emailVerified: true)
        let snapshot = DirectorySnapshot(
            organizations: Array(base.organizations.values),
            users: [F.user("u1"), other],
            teams: Array(base.teams.values) + [Team(id: "t9", organization: "acme", slug: "web", members: ["u9"])],
            projects: Array(base.projects.values) + [
                Project(id: "p9", organization: "acme", slug: "web", teams: ["t9"])
            ]
        )
        let plan = F.plan(deploy(commits: ["u9@acme.test", "u1@acme.test"], projects: ["web"]), snapshot)
        #expect(plan.userIds == ["u1", "u9"])
    }

    @Test("explicit users pass their preferences, unless the key is critical")
    func explicitUsers() {
        let normal = CatalogEntry(
            key: "payout_processed",
            type: NotificationType("payments"),
            description: "",
            defaults: [.email: true, .sms: true]
        )
        var critical = normal
        critical.key = "otp_code"
        critical.critical = true
        let rows = [
            F.row("u1", .user, "u1", "payments", .sms, .never),
            F.row("u1", .user, "u1", "otp_code", nil, .never),
        ]
        let snapshot = F.snapshot(users: [F.user("u1"), F.user("u2")], preferences: rows)
        var event = F.event(
            "payout_processed",
            actor: "u1",
            recipients: [.user("u1"), .user("zz"), .address(channel: .email, address: "ops@x.test", notifier: nil)]
        )
        let plan = ParticipantResolver().plan(for: event, entry: normal, directory: snapshot)
        #expect(plan.userIds.isEmpty)
        #expect(plan.reasons(for: "user:u1") == ["actor_excluded"])
        #expect(plan.reasons(for: "user:zz") == ["unknown_recipient"])
        event.actor = nil
        let plain = ParticipantResolver().plan(for: event, entry: normal, directory: snapshot)
        #expect(plain.targets.map(\.channel) == [.email])
        #expect(plain.targets.allSatisfy { $0.reason == .explicit })
        event.key = "otp_code"
        event.actor = Actor(id: "u1")
        let otp = ParticipantResolver().plan(for: event, entry: critical, directory: snapshot)
        #expect(otp.targets.map(\.channel) == [.email, .sms])
    }

    @Test("one target per recipient and channel even when a user qualifies twice")
    func deduplication() {
        let snapshot = F.snapshot(
            users: [F.user("u1")],
            subscriptions: [IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .comment)]
        )
        let plan = F.plan(F.event("note", recipients: [.user("u1"), .team("t1")]), snapshot)
        #expect(plan.targets.map(\.channel) == [.email, .slack])
        #expect(plan.targets.allSatisfy { $0.reason == .comment })
    }
}
