import Foundation
import GRDB
import HeraldCore
import HeraldSQLite
import Testing

/// Directory behaviour specific to the SQLite store: schema upgrades, several processes, locks, bad input.
@Suite struct SQLiteStoreDirectoryTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    private func newEvent(_ id: String) -> NewEvent {
        NewEvent(
            event: Event(id: id, key: "resolved", organization: "acme", project: "backend", occurredAt: now),
            idempotencyKey: id,
            canonicalBody: Data(#"{"key":"resolved"}"#.utf8)
        )
    }

    private func newDelivery(_ eventId: String) -> NewDelivery {
        NewDelivery(
            eventId: eventId,
            channel: .slack,
            notifierId: 1,
            recipient: Recipient(kind: .user, id: "u1", address: "U01"),
            reason: .explicit,
            destination: "https://hooks.slack.example/secret",
            payload: Data(#"{"text":"hi"}"#.utf8),
            contentType: "application/json"
        )
    }

    private let directory = DirectoryDocument(
        organizations: [Organization(id: "acme", slug: "acme", name: "Acme")],
        users: [
            User(
                id: "u1",
                organization: "acme",
                name: "Ann",
                lastActiveAt: Date(timeIntervalSince1970: 1_799_999_000.25)
            ),
            User(id: "u2", organization: "acme", name: "Bo"),
        ],
        teams: [Team(id: "t1", organization: "acme", slug: "backend", members: ["u1", "u2"])],
        projects: [Project(id: "p1", organization: "acme", slug: "backend", teams: ["t1"])],
        subscriptions: [IssueSubscription(issue: "1", project: "p1", user: "u1", reason: .bookmark)],
        preferences: [
            PreferenceRow(owner: .user("u1"), scope: .user, scopeId: "u1", subject: "workflow", value: .never)
        ]
    )

    /// The names of the tables in the file at `path`.
    private func tables(_ path: String) throws -> Set<String> {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
        }
    }

    @Test func aVersion1DatabaseUpgradesKeepingItsEvents() async throws {
        try await withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("herald.db").path
            // The database as the first release left it, with an event fanned out and one waiting.
            var store = try SQLiteStore(path: path)
            try store.migrate(upTo: "v1")
            _ = try await store.enqueue([newEvent("evt_1"), newEvent("evt_2")], now: now)
            _ = try await store.claimEvents(limit: 1, now: now, leaseUntil: now + 30)
            try await store.completeFanOut(
                [FanOutResult(eventId: "evt_1", deliveries: [newDelivery("evt_1")], suppressions: [])],
                now: now
            )
            try await store.close()
            let v1Tables = try tables(path)
            #expect(v1Tables.contains("events"))
            #expect(!v1Tables.contains("directory_records"))
            #expect(!v1Tables.contains("meta"))

            // A read-only process refuses the old schema rather than failing on a missing table later.
            let reader = try SQLiteStore(path: path, readOnly: true)
            await #expect(throws: StoreError.self) { try await reader.migrate() }
            try await reader.close()

            store = try SQLiteStore(path: path)
            try await store.migrate()
            #expect(
                try tables(path).isSuperset(of: ["events", "directory_records", "subscriptions", "preferences", "meta"])
            )
            let fannedOut = try #require(try await store.eventRecord(id: "evt_1"))
            #expect(fannedOut.state == .fannedOut)
            #expect(fannedOut.deliveries.map(\.destination) == ["https://hooks.slack.example/secret"])
            #expect(try await store.eventRecord(id: "evt_2")?.state == .accepted)
            #expect(try await store.enqueue([newEvent("evt_1")], now: now) == [.duplicate(eventId: "evt_1")])

            #expect(try await store.loadDirectory() == DirectoryDocument())
            let initial = try await store.directoryVersion()
            try await store.importDirectory(directory, now: now)
            #expect(try await store.directoryVersion() != initial)
            #expect(try await store.loadDirectory().users.map(\.name) == ["Ann", "Bo"])
            try await store.close()
        }
    }

    @Test func anImportByAnotherProcessChangesTheVersion() async throws {
        try await withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("herald.db").path
            let daemon = try SQLiteStore(path: path)
            let cli = try SQLiteStore(path: path)
            try await daemon.migrate()
            try await cli.migrate()
            let before = try await daemon.directoryVersion()
            try await cli.importDirectory(directory, now: now)
            let after = try await daemon.directoryVersion()
            #expect(after != before)
            #expect(try await daemon.loadDirectory().users.map(\.id) == ["u1", "u2"])
            // The date survives to the millisecond.
            #expect(
                try await daemon.loadDirectory().users.first?.lastActiveAt?.timeIntervalSince1970
                    == 1_799_999_000.25
            )
            try await cli.replacePreferences(removing: [directory.preferences[0].identity], upserting: [])
            #expect(try await daemon.directoryVersion() != after)
            #expect(try await daemon.loadDirectory().preferences.isEmpty)
            try await cli.close()
            try await daemon.close()
        }
    }

    @Test func aRecordWithoutAnOwnerRefusesTheWholeWrite() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteStore(path: folder.appendingPathComponent("herald.db").path)
            try await store.migrate()
            try await store.importDirectory(directory, now: now)
            let version = try await store.directoryVersion()

            var ownerless = directory.subscriptions[0]
            ownerless.user = nil
            let renamed = User(id: "u1", organization: "acme", name: "Renamed")
            let importError = await #expect(throws: InvalidDirectoryRecord.self) {
                try await store.importDirectory(
                    DirectoryDocument(users: [renamed], subscriptions: [ownerless]),
                    now: now
                )
            }
            #expect(importError?.field == "subscriptions[0]")

            var ownerlessRow = directory.preferences[0]
            ownerlessRow.user = nil
            await #expect(throws: InvalidDirectoryRecord.self) {
                try await store.replacePreferences(
                    removing: [directory.preferences[0].identity],
                    upserting: [ownerlessRow]
                )
            }
            #expect(try await store.loadDirectory() == directory)
            #expect(try await store.directoryVersion() == version)

            // Fan-out skips a change it cannot store rather than failing the batch.
            _ = try await store.enqueue([newEvent("evt_1")], now: now)
            _ = try await store.claimEvents(limit: 1, now: now, leaseUntil: now + 30)
            let subscribed = IssueSubscription(issue: "1", project: "p1", user: "u2", reason: .comment)
            try await store.completeFanOut(
                [
                    FanOutResult(
                        eventId: "evt_1",
                        deliveries: [],
                        suppressions: [],
                        subscriptionChanges: [.subscribe(ownerless), .subscribe(subscribed)]
                    )
                ],
                now: now
            )
            #expect(try await store.loadDirectory().subscriptions == directory.subscriptions + [subscribed])
            try await store.close()
        }
    }

    @Test func directoryWritesOnALockedDatabaseAreUnavailableAndApplyNothing() async throws {
        try await withTemporaryDirectory { folder in
            let path = folder.appendingPathComponent("herald.db").path
            let store = try SQLiteStore(path: path, busyTimeout: 0.05)
            try await store.migrate()
            try await store.importDirectory(directory, now: now)
            let version = try await store.directoryVersion()

            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            let intruder = try DatabaseQueue(path: path, configuration: configuration)
            try await intruder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE TRANSACTION") }
            let renamed = User(id: "u1", organization: "acme", name: "Renamed")
            let identity = directory.preferences[0].identity
            let operations: [(String, () async throws -> Void)] = [
                (
                    "importDirectory",
                    { try await store.importDirectory(DirectoryDocument(users: [renamed]), now: self.now) }
                ),
                ("replacePreferences", { try await store.replacePreferences(removing: [identity], upserting: []) }),
            ]
            for (name, operation) in operations {
                let error = await #expect(throws: StoreError.self, "\(name)") { try await operation() }
                guard case .unavailable(let message) = error else {
                    Issue.record("\(name): expected StoreError.unavailable, got \(String(describing: error))")
                    continue
                }
                #expect(message.contains("locked"), "\(name): \(message)")
            }
            // Readers are not blocked by a writer in WAL mode.
            #expect(try await store.directoryVersion() == version)
            try await intruder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            try intruder.close()
            #expect(try await store.loadDirectory() == directory)
            #expect(try await store.directoryVersion() == version)
            try await store.close()
        }
    }

    @Test func aLargeDirectoryLoadsQuickly() async throws {
        try await withTemporaryDirectory { folder in
            let store = try SQLiteStore(path: folder.appendingPathComponent("herald.db").path)
            try await store.migrate()
            let users = (0..<5_000).map { index in
                User(
                    id: "user\(index)",
                    organization: "acme",
                    name: "User \(index)",
                    email: "user\(index)@acme.test",
                    emailVerified: true,
                    phone: "+1555\(index)",
                    slackId: "U\(index)",
                    timezone: "Europe/Berlin",
                    lastActiveAt: now - Double(index),
                    isActive: true
                )
            }
            let document = DirectoryDocument(
                organizations: [Organization(id: "acme", slug: "acme", name: "Acme")],
                users: users,
                teams: [Team(id: "t1", organization: "acme", slug: "all", members: users.map(\.id))],
                projects: [Project(id: "p1", organization: "acme", slug: "p1", teams: ["t1"])]
            )
            // Speed is measured by the benchmark, not asserted here: this checks a large directory round-trips.
            try await store.importDirectory(document, now: now)
            let loaded = try await store.loadDirectory()
            #expect(loaded.users.count == 5_000)
            #expect(Set(loaded.users) == Set(users))
            try await store.close()
        }
    }
}
