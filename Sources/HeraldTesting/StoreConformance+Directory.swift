import Foundation
import HeraldCore

extension StoreConformance {
    // MARK: Fixtures

    /// A directory using every field of every record kind: users with and without dates, teams with members
    /// and addresses, projects with routes, ownership, settings and each fallthrough choice, active, inactive
    /// and team subscriptions, and preference rows for all channels and for one channel.
    static func richDirectory() -> DirectoryDocument {
        DirectoryDocument(
            organizations: [
                Organization(id: "acme", slug: "acme", name: "Acme Inc."),
                Organization(id: "globex", slug: "globex-corp", name: "Globex “Corp” ✓"),
            ],
            users: [
                User(
                    id: "u1",
                    organization: "acme",
                    name: "Ann Lee",
                    email: "ann@acme.test",
                    emailVerified: true,
                    phone: "+15550000001",
                    slackId: "U0000000001",
                    msteamsWebhook: "https://teams.example/workflows/u1",
                    timezone: "Europe/Berlin",
                    lastActiveAt: at(-3600.125),
                    isActive: true,
                    selfNotifications: true
                ),
                User(id: "u2", organization: "acme", name: "Bo Chen", email: "bo@acme.test", lastActiveAt: at(-86400)),
                User(id: "u3", organization: "acme", isActive: false),
                User(id: "u4", organization: "globex", name: "Dee", email: "dee@globex.test", emailVerified: true),
            ],
            teams: [
                Team(
                    id: "t1",
                    organization: "acme",
                    slug: "backend-team",
                    members: ["u2", "u1"],
                    slackChannel: "C0000000100",
                    msteamsWebhook: "https://teams.example/workflows/t1"
                ),
                Team(id: "t2", organization: "acme", slug: "frontend", members: []),
            ],
            projects: [
                Project(
                    id: "p1",
                    organization: "acme",
                    slug: "backend",
                    name: "Backend",
                    teams: ["t1", "t2"],
                    fallthrough: .allMembers,
                    ownership: ["path:src/billing/** #backend-team", "url:*/checkout/* ann@acme.test"],
                    routes: [
                        Route(
                            id: "pd-main",
                            channel: .pagerduty,
                            notifier: 3,
                            target: "0123456789abcdef0123456789abcdef",
                            filter: RouteFilter(
                                keys: ["escalating", "regression", "resolved"],
                                minLevel: "error",
                                environments: ["production"]
                            )
                        ),
                        Route(id: "hook", channel: .webhook, target: "https://hooks.example/p1"),
                    ],
                    settings: ProjectNotificationSettings(
                        emailNotifier: 1,
                        smsNotifier: 5,
                        otpCodeLength: 6,
                        otpTtlSeconds: 300
                    )
                ),
                Project(id: "p2", organization: "acme", slug: "frontend", fallthrough: .noOne),
                Project(id: "p3", organization: "globex", slug: "web"),
            ],
            subscriptions: [
                IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .bookmark),
                IssueSubscription(issue: "9001", project: "p1", user: "u2", active: false, reason: .comment),
                IssueSubscription(issue: "9001", project: "p1", team: "t1", reason: .assigned),
                IssueSubscription(issue: "9002", project: "p1", user: "u1", reason: .statusChange),
                IssueSubscription(issue: "17", project: "p3", user: "u4", reason: .teamMentioned),
            ],
            preferences: [
                PreferenceRow(owner: .user("u1"), scope: .user, scopeId: "u1", subject: "workflow", value: .always),
                PreferenceRow(
                    owner: .user("u1"),
                    scope: .project,
                    scopeId: "p1",
                    subject: "assigned",
                    channel: .email,
                    value: .never
                ),
                PreferenceRow(
                    owner: .user("u1"),
                    scope: .project,
                    scopeId: "p1",
                    subject: "assigned",
                    value: .subscribeOnly
                ),
                PreferenceRow(
                    owner: .team("t1"),
                    scope: .organization,
                    scopeId: "acme",
                    subject: "deploy",
                    channel: .slack,
                    value: .always
                ),
            ]
        )
    }

    /// The document with records in a canonical order and times rounded to the millisecond, so that what a
    /// store loads compares equal to what it was given whatever order it returns subscriptions and preferences in.
    static func normalized(_ document: DirectoryDocument) -> DirectoryDocument {
        func key(_ row: IssueSubscription) -> [String] {
            [row.project, row.issue, row.user ?? "", row.team ?? ""]
        }
        func key(_ row: PreferenceRow) -> [String] {
            [
                row.user ?? "", row.team ?? "", row.scope.rawValue, row.scopeId, row.subject,
                row.channel?.rawValue ?? "",
            ]
        }
        var document = document
        document.organizations.sort { $0.id < $1.id }
        document.users.sort { $0.id < $1.id }
        for index in document.users.indices {
            document.users[index].lastActiveAt = document.users[index].lastActiveAt.map {
                Date(timeIntervalSince1970: Double(millis($0)) / 1000)
            }
        }
        document.teams.sort { $0.id < $1.id }
        document.projects.sort { $0.id < $1.id }
        document.subscriptions.sort { key($0).lexicographicallyPrecedes(key($1)) }
        document.preferences.sort { key($0).lexicographicallyPrecedes(key($1)) }
        return document
    }

    /// Compares two directories record kind by record kind, after normalizing both.
    static func expectSameDirectory(
        _ actual: DirectoryDocument,
        _ expected: DirectoryDocument,
        _ what: String,
        file: StaticString = #fileID,
        line: UInt = #line
    ) throws {
        let actual = normalized(actual)
        let expected = normalized(expected)
        try expectEqual(actual.organizations, expected.organizations, "\(what): organizations", file: file, line: line)
        try expectEqual(actual.users, expected.users, "\(what): users", file: file, line: line)
        try expectEqual(actual.teams, expected.teams, "\(what): teams", file: file, line: line)
        try expectEqual(actual.projects, expected.projects, "\(what): projects", file: file, line: line)
        try expectEqual(actual.subscriptions, expected.subscriptions, "\(what): subscriptions", file: file, line: line)
        try expectEqual(actual.preferences, expected.preferences, "\(what): preferences", file: file, line: line)
    }

    /// The subscription rows of one issue, as loaded.
    static func subscriptions(
        _ store: any Store,
        project: String,
        issue: String
    ) async throws -> Set<IssueSubscription> {
        Set(try await store.loadDirectory().subscriptions.filter { $0.project == project && $0.issue == issue })
    }

    /// Enqueues and claims one event, then completes its fan-out with `changes` and no deliveries.
    static func fanOut(
        _ store: any Store,
        _ eventId: String,
        changes: [SubscriptionChange],
        at now: Date
    ) async throws {
        _ = try await store.enqueue([newEvent(eventId)], now: now)
        _ = try await store.claimEvents(limit: 10, now: now, leaseUntil: now.addingTimeInterval(30))
        try await store.completeFanOut(
            [FanOutResult(eventId: eventId, deliveries: [], suppressions: [], subscriptionChanges: changes)],
            now: now
        )
    }

    // MARK: Checks

    static func directoryEmpty(_ store: any Store) async throws {
        try expectEqual(try await store.loadDirectory(), DirectoryDocument(), "the directory of an empty store")
        let version = try await store.directoryVersion()
        try expectEqual(try await store.directoryVersion(), version, "the version read twice")
    }

    static func directoryRoundTrip(_ store: any Store) async throws {
        let document = richDirectory()
        try await store.importDirectory(document, now: at(0))
        let loaded = try await store.loadDirectory()
        try expectSameDirectory(loaded, document, "loaded directory")
        try expectEqual(loaded.users.map(\.id), ["u1", "u2", "u3", "u4"], "users in id order")
        try expectEqual(loaded.projects.map(\.id), ["p1", "p2", "p3"], "projects in id order")
        try expectEqual(try await store.loadDirectory(), loaded, "a second load")
    }

    static func directoryImportUpserts(_ store: any Store) async throws {
        let first = richDirectory()
        try await store.importDirectory(first, now: at(0))

        var renamed = first.users[0]
        renamed.name = "Ann Lee-Park"
        renamed.lastActiveAt = nil
        var reshuffled = first.teams[0]
        reshuffled.members = ["u3"]
        reshuffled.slackChannel = nil
        var rerouted = first.projects[0]
        rerouted.routes = [Route(id: "slack", channel: .slack, target: "C0000000200")]
        rerouted.fallthrough = .activeMembers
        let newTeam = Team(id: "t3", organization: "acme", slug: "ops", members: ["u1", "u2"])
        let resubscribed = IssueSubscription(issue: "9001", project: "p1", user: "u2", reason: .mentioned)
        let newSubscription = IssueSubscription(issue: "9003", project: "p2", team: "t3", reason: .assigned)
        let changedPreference = PreferenceRow(
            owner: .user("u1"),
            scope: .project,
            scopeId: "p1",
            subject: "assigned",
            channel: .email,
            value: .always
        )
        let newPreference = PreferenceRow(
            owner: .team("t3"),
            scope: .project,
            scopeId: "p2",
            subject: "issue_alert",
            value: .never
        )
        try await store.importDirectory(
            DirectoryDocument(
                users: [renamed],
                teams: [reshuffled, newTeam],
                projects: [rerouted],
                subscriptions: [resubscribed, newSubscription],
                preferences: [changedPreference, newPreference]
            ),
            now: at(10)
        )

        var expected = first
        expected.users[0] = renamed
        expected.teams[0] = reshuffled
        expected.teams.append(newTeam)
        expected.projects[0] = rerouted
        // An import is authoritative for the rows it names: it may re-activate an unsubscribe.
        expected.subscriptions[1] = resubscribed
        expected.subscriptions.append(newSubscription)
        expected.preferences[1] = changedPreference
        expected.preferences.append(newPreference)
        try expectSameDirectory(try await store.loadDirectory(), expected, "after the second import")
    }

    static func directoryVersionChanges(_ store: any Store) async throws {
        let initial = try await store.directoryVersion()
        try await store.importDirectory(richDirectory(), now: at(0))
        let imported = try await store.directoryVersion()
        try expect(imported != initial, "an import changes the version (still \(initial))")
        try expectEqual(try await store.directoryVersion(), imported, "the version without writes")

        try await store.importDirectory(DirectoryDocument(users: [User(id: "u9", organization: "acme")]), now: at(1))
        let reimported = try await store.directoryVersion()
        try expect(reimported != imported, "a second import changes the version (still \(imported))")

        try await store.replacePreferences(
            removing: [richDirectory().preferences[0].identity],
            upserting: [
                PreferenceRow(owner: .user("u2"), scope: .user, scopeId: "u2", subject: "workflow", value: .never)
            ]
        )
        let replaced = try await store.directoryVersion()
        try expect(replaced != reimported, "replacePreferences changes the version (still \(reimported))")

        try await fanOut(
            store,
            "evt_1",
            changes: [
                .subscribe(IssueSubscription(issue: "9001", project: "p1", user: "u3", reason: .comment)),
                .remove(IssueSubscription(issue: "9001", project: "p1", team: "t1", reason: .assigned)),
            ],
            at: at(2)
        )
        try expectEqual(try await store.directoryVersion(), replaced, "the version after fan-out's subscriptions")
        _ = try await seedDeliveries(store, eventIds: ["evt_2"], at: at(3))
        try expectEqual(try await store.directoryVersion(), replaced, "the version after a plain fan-out")
    }

    static func fanOutStoresSubscriptions(_ store: any Store) async throws {
        try await store.importDirectory(richDirectory(), now: at(0))
        let commented = IssueSubscription(issue: "9001", project: "p1", user: "u3", reason: .comment)
        let assigned = IssueSubscription(issue: "5", project: "p2", team: "t2", reason: .assigned)
        let mentioned = IssueSubscription(issue: "5", project: "p2", user: "u1", reason: .mentioned)
        _ = try await store.enqueue([newEvent("evt_1"), newEvent("evt_2"), newEvent("evt_3")], now: at(1))
        _ = try await store.claimEvents(limit: 10, now: at(1), leaseUntil: at(30))
        try await store.completeFanOut(
            [
                FanOutResult(
                    eventId: "evt_1",
                    deliveries: [newDelivery("evt_1", 0)],
                    suppressions: [],
                    subscriptionChanges: [.subscribe(commented)]
                ),
                FanOutResult(eventId: "evt_2", deliveries: [], suppressions: []),
                FanOutResult(
                    eventId: "evt_3",
                    deliveries: [],
                    suppressions: [],
                    subscriptionChanges: [.subscribe(assigned), .subscribe(mentioned)]
                ),
            ],
            now: at(2)
        )
        var expected = richDirectory()
        expected.subscriptions += [commented, assigned, mentioned]
        try expectSameDirectory(try await store.loadDirectory(), expected, "after fan-out")
        try expectEqual(try await store.eventRecord(id: "evt_1")?.deliveries.count, 1, "evt_1's delivery")

        // A second fan-out stage whose lease had expired finishes evt_3 again: its changes are not applied.
        let late = IssueSubscription(issue: "5", project: "p2", user: "u2", reason: .comment)
        try await store.completeFanOut(
            [
                FanOutResult(
                    eventId: "evt_3",
                    deliveries: [],
                    suppressions: [],
                    subscriptionChanges: [.subscribe(late), .remove(mentioned)]
                )
            ],
            now: at(40)
        )
        try expectSameDirectory(try await store.loadDirectory(), expected, "after a repeated fan-out")
    }

    static func fanOutKeepsUnsubscribes(_ store: any Store) async throws {
        try await store.importDirectory(richDirectory(), now: at(0))
        // u2 unsubscribed explicitly from p1/9001; u1 follows it for a bookmark.
        let before = try await subscriptions(store, project: "p1", issue: "9001")
        try await fanOut(
            store,
            "evt_1",
            changes: [
                .subscribe(IssueSubscription(issue: "9001", project: "p1", user: "u2", reason: .assigned)),
                .subscribe(IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .comment)),
            ],
            at: at(1)
        )
        // Neither row changes: the unsubscribe stays inactive, the active row keeps its first reason.
        try expectEqual(try await subscriptions(store, project: "p1", issue: "9001"), before, "rows of p1/9001")
    }

    static func fanOutRemovesActiveSubscriptions(_ store: any Store) async throws {
        try await store.importDirectory(richDirectory(), now: at(0))
        try await fanOut(
            store,
            "evt_1",
            changes: [
                // The previous assignee (the team) is removed and the new one subscribed.
                .remove(IssueSubscription(issue: "9001", project: "p1", team: "t1", reason: .assigned)),
                .subscribe(IssueSubscription(issue: "9001", project: "p1", user: "u3", reason: .assigned)),
                // An explicit unsubscribe is never removed.
                .remove(IssueSubscription(issue: "9001", project: "p1", user: "u2", active: false, reason: .comment)),
                // Removing a row that does not exist is harmless.
                .remove(IssueSubscription(issue: "9001", project: "p1", user: "u4", reason: .assigned)),
            ],
            at: at(1)
        )
        try expectEqual(
            try await subscriptions(store, project: "p1", issue: "9001"),
            [
                IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .bookmark),
                IssueSubscription(issue: "9001", project: "p1", user: "u2", active: false, reason: .comment),
                IssueSubscription(issue: "9001", project: "p1", user: "u3", reason: .assigned),
            ],
            "rows of p1/9001"
        )
        try expectEqual(
            try await subscriptions(store, project: "p1", issue: "9002"),
            [IssueSubscription(issue: "9002", project: "p1", user: "u1", reason: .statusChange)],
            "rows of another issue"
        )
    }

    static func replacePreferences(_ store: any Store) async throws {
        let document = richDirectory()
        try await store.importDirectory(document, now: at(0))
        // Rows 1 and 2 share owner, scope and subject; one switches email, the other is the option row.
        let emailRow = document.preferences[1]
        let optionRow = document.preferences[2]
        var emailOn = emailRow
        emailOn.value = .always
        let slackOff = PreferenceRow(
            owner: .user("u1"),
            scope: .project,
            scopeId: "p1",
            subject: "assigned",
            channel: .slack,
            value: .never
        )
        let teamRow = PreferenceRow(owner: .team("t2"), scope: .user, scopeId: "t2", subject: "workflow", value: .never)
        try await store.replacePreferences(
            removing: [emailRow.identity, optionRow.identity, teamRow.identity],
            upserting: [emailOn, slackOff, teamRow]
        )
        var expected = document
        expected.preferences = [document.preferences[0], emailOn, document.preferences[3], slackOff, teamRow]
        try expectSameDirectory(try await store.loadDirectory(), expected, "after replacing")
        try expectEqual(
            Set(try await store.preferenceRows(of: .user("u1"))),
            Set(expected.preferences.filter { $0.owner == .user("u1") }),
            "preferenceRows(of: u1)"
        )
        try expectEqual(try await store.preferenceRows(of: .team("t2")), [teamRow], "preferenceRows(of: t2)")

        // A removal of a row that does not exist and nothing to upsert.
        try await store.replacePreferences(removing: [optionRow.identity, emailOn.identity], upserting: [])
        expected.preferences.removeAll { $0.identity == emailOn.identity }
        try expectSameDirectory(try await store.loadDirectory(), expected, "after removing")

        // The returning form answers the owner's rows as they stand after the write, and only that owner's.
        let versionBefore = try await store.directoryVersion()
        let slackOn = PreferenceRow(
            owner: .user("u1"),
            scope: .project,
            scopeId: "p1",
            subject: "assigned",
            channel: .slack,
            value: .always
        )
        let after = try await store.replacePreferences(
            removing: [document.preferences[0].identity],
            upserting: [slackOn],
            returningRowsOf: .user("u1")
        )
        expected.preferences.removeAll {
            $0.identity == document.preferences[0].identity || $0.identity == slackOn.identity
        }
        expected.preferences.append(slackOn)
        try expectEqual(
            Set(after),
            Set(expected.preferences.filter { $0.owner == .user("u1") }),
            "rows returned by replacePreferences(returningRowsOf: u1)"
        )
        try expectEqual(Set(after), Set(try await store.preferenceRows(of: .user("u1"))), "returned rows are stored")
        try expect(try await store.directoryVersion() != versionBefore, "the returning form bumps the version too")
        let unchanged = try await store.replacePreferences(removing: [], upserting: [], returningRowsOf: .team("t2"))
        try expectEqual(unchanged, [teamRow], "nothing to write: the rows as they are")
    }

    static func directoryAtScale(_ store: any Store) async throws {
        let users = (0..<5_000).map { index in
            User(
                id: String(format: "user%05d", index),
                organization: "acme",
                name: "User \(index)",
                email: "user\(index)@acme.test",
                emailVerified: index.isMultiple(of: 2),
                slackId: "U\(index)",
                timezone: "UTC",
                lastActiveAt: at(-Double(index)),
                isActive: !index.isMultiple(of: 7)
            )
        }
        let team = Team(id: "everyone", organization: "acme", slug: "everyone", members: users.map(\.id))
        let subscriptions = users.prefix(1_000).map {
            IssueSubscription(issue: "1", project: "p1", user: $0.id, reason: .comment)
        }
        let document = DirectoryDocument(
            organizations: [Organization(id: "acme", slug: "acme", name: "Acme")],
            users: users,
            teams: [team],
            projects: [Project(id: "p1", organization: "acme", slug: "p1", teams: ["everyone"])],
            subscriptions: subscriptions
        )
        try await store.importDirectory(document, now: at(0))
        let loaded = try await store.loadDirectory()
        try expectEqual(loaded.users.count, 5_000, "users")
        try expectSameDirectory(loaded, document, "a large directory")
    }
}
