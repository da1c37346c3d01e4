import Foundation
import HeraldCore

/// Checks of the store operations the HTTP API adds (listings, directory removals, run-time catalog keys).
extension StoreConformance {
    static func listEventsPaging(_ store: any Store) async throws {
        _ = try await store.enqueue((0..<5).map { newEvent("evt_\($0)") }, now: at(0))
        let first = try await store.listEvents(EventListQuery(limit: 2))
        try expectEqual(first.map(\.id), ["evt_4", "evt_3"], "first page")
        let second = try await store.listEvents(EventListQuery(after: first.last!.sequence, limit: 10))
        try expectEqual(second.map(\.id), ["evt_2", "evt_1", "evt_0"], "second page")
        try expectSameTime(second.first?.acceptedAt, at(0), "acceptedAt")
        _ = try await store.claimEvents(limit: 2, now: at(1), leaseUntil: at(30))
        let accepted = try await store.listEvents(EventListQuery(state: .accepted, limit: 10))
        try expectEqual(accepted.map(\.id), ["evt_4", "evt_3", "evt_2"], "accepted only")
        try expectEqual(try await store.listEvents(EventListQuery(key: "deploy", limit: 10)).count, 0, "by key")
        try expectEqual(try await store.listEvents(EventListQuery(key: "resolved", limit: 10)).count, 5, "by key")
    }

    static func listDeliveriesPaging(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_d")], now: at(0))
        _ = try await store.claimEvents(limit: 1, now: at(0), leaseUntil: at(30))
        try await store.completeFanOut(
            [
                FanOutResult(
                    eventId: "evt_d",
                    deliveries: [
                        newDelivery("evt_d", 0), newDelivery("evt_d", 1, channel: .email), newDelivery("evt_d", 2),
                    ],
                    suppressions: []
                )
            ],
            now: at(1)
        )
        let all = try await store.listDeliveries(DeliveryListQuery(limit: 10))
        try expectEqual(all.count, 3, "all deliveries")
        try expect(all[0].id > all[1].id && all[1].id > all[2].id, "highest id first: \(all.map(\.id))")
        let page = try await store.listDeliveries(DeliveryListQuery(before: all[0].id, limit: 1))
        try expectEqual(page.map(\.id), [all[1].id], "after the cursor")
        let email = try await store.listDeliveries(DeliveryListQuery(channel: .email, limit: 10))
        try expectEqual(email.map(\.channel), [.email], "by channel")
        try expectEqual(try await store.listDeliveries(DeliveryListQuery(state: .dead, limit: 10)).count, 0, "by state")
    }

    static func updateDirectoryRemoves(_ store: any Store) async throws {
        let document = DirectoryDocument(
            organizations: [Organization(id: "acme", slug: "acme", name: "Acme")],
            users: [User(id: "u1", organization: "acme"), User(id: "u2", organization: "acme")],
            teams: [Team(id: "t1", organization: "acme", slug: "core", members: ["u1", "u2"])],
            projects: [Project(id: "p1", organization: "acme", slug: "backend", teams: ["t1"])],
            subscriptions: [
                IssueSubscription(issue: "9", project: "p1", user: "u1", reason: .bookmark),
                IssueSubscription(issue: "9", project: "p1", user: "u2", reason: .comment),
            ],
            preferences: [
                PreferenceRow(owner: .user("u1"), scope: .user, scopeId: "u1", subject: "workflow", value: .never),
                PreferenceRow(owner: .user("u2"), scope: .user, scopeId: "u2", subject: "workflow", value: .always),
            ]
        )
        try await store.importDirectory(document, now: at(0))
        try expect(try await store.directoryRecordExists(.user("u1")), "u1 exists")
        try expect(
            try await store.directoryRecordExists(.subscription(project: "p1", issue: "9", party: .user("u1"))),
            "u1's subscription exists"
        )
        try expect(!(try await store.directoryRecordExists(.team("t9"))), "t9 does not exist")
        let version = try await store.directoryVersion()
        try await store.updateDirectory(
            removing: [.user("u1")],
            upserting: DirectoryDocument(teams: [Team(id: "t1", organization: "acme", slug: "core", members: ["u2"])]),
            now: at(1)
        )
        var loaded = try await store.loadDirectory()
        try expectEqual(loaded.users.map(\.id), ["u2"], "users after removing u1")
        try expect(!(try await store.directoryRecordExists(.user("u1"))), "u1 is gone")
        try expectEqual(loaded.teams.first?.members, ["u2"], "team upserted in the same step")
        try expectEqual(loaded.subscriptions.compactMap(\.user), ["u2"], "u1's subscriptions removed")
        try expectEqual(loaded.preferences.compactMap(\.user), ["u2"], "u1's preferences removed")
        try expect(try await store.directoryVersion() > version, "version bumped")
        try await store.updateDirectory(
            removing: [.subscription(project: "p1", issue: "9", party: .user("u2"))],
            upserting: DirectoryDocument(),
            now: at(2)
        )
        loaded = try await store.loadDirectory()
        try expectEqual(loaded.subscriptions.count, 0, "subscription removed")
        try await store.updateDirectory(
            removing: [.project("p1"), .team("t1")],
            upserting: DirectoryDocument(),
            now: at(3)
        )
        try await store.updateDirectory(
            removing: [.user("u2"), .organization("acme"), .user("nobody")],
            upserting: DirectoryDocument(),
            now: at(4)
        )
        loaded = try await store.loadDirectory()
        try expect(
            loaded.organizations.isEmpty && loaded.users.isEmpty && loaded.teams.isEmpty && loaded.projects.isEmpty
                && loaded.preferences.isEmpty,
            "everything removed: \(loaded)"
        )
    }

    static func catalogEntriesRoundTrip(_ store: any Store) async throws {
        try expectEqual(try await store.storedCatalogEntries(), [], "empty")
        let entry = CatalogEntry(
            key: "payout_processed",
            type: NotificationType("payments"),
            description: "A payout",
            defaults: [.email: true, .sms: false],
            critical: false
        )
        try await store.saveCatalogEntry(entry)
        var second = entry
        second.key = "new_message"
        second.critical = true
        try await store.saveCatalogEntry(second)
        var replaced = entry
        replaced.description = "A payout was processed"
        try await store.saveCatalogEntry(replaced)
        try expectEqual(
            try await store.storedCatalogEntries(),
            [second, replaced].sorted { $0.key < $1.key },
            "entries"
        )
    }
}
