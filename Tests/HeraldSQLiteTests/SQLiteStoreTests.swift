import Foundation
import GRDB
import HeraldCore
import HeraldSQLite
import Testing

/// Behaviour specific to the SQLite store: several processes on one file, volume, locks, durability.
@Suite struct SQLiteStoreTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// An event whose canonical body is the same for every id (the client sent the same thing).
    private func newEvent(_ id: String, key: String? = nil) -> NewEvent {
        NewEvent(
            event: Event(id: id, key: "resolved", organization: "acme", project: "backend", occurredAt: now),
            idempotencyKey: key,
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

    private func delivered(_ delivery: Delivery) throws -> DeliveryUpdate {
        .delivered(
            id: delivery.id,
            lease: try #require(delivery.lease),
            attempt: AttemptRecord(startedAt: now, duration: 0.01, result: .delivered),
            receipt: nil
        )
    }

    /// Enqueues, claims and fans out one event with one delivery; returns the delivery.
    private func seed(_ store: SQLiteStore, _ eventId: String) async throws -> Delivery {
        _ = try await store.enqueue([newEvent(eventId)], now: now)
        _ = try await store.claimEvents(limit: 10, now: now, leaseUntil: now + 30)
        try await store.completeFanOut(
            [FanOutResult(eventId: eventId, deliveries: [newDelivery(eventId)], suppressions: [])],
            now: now
        )
        return try #require(try await store.eventRecord(id: eventId)?.deliveries.first)
    }

    @Test func twoStoresOnOneFileSeeEachOther() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("herald.db").path
            let daemon = try SQLiteStore(path: path)
            let cli = try SQLiteStore(path: path)
            // Both processes migrate at start-up, at the same time.
            async let daemonMigrated: Void = daemon.migrate()
            async let cliMigrated: Void = cli.migrate()
            _ = try await (daemonMigrated, cliMigrated)

            #expect(try await cli.enqueue([newEvent("evt_cli", key: "k")], now: now) == [.accepted(eventId: "evt_cli")])
            #expect(try await daemon.hasClaimableEvents(now: now))
            let claimed = try await daemon.claimEvents(limit: 10, now: now, leaseUntil: now + 30)
            #expect(claimed.map(\.event.id) == ["evt_cli"])
            #expect(try await cli.eventRecord(id: "evt_cli")?.state == .fanningOut)
            #expect(
                try await daemon.enqueue([newEvent("evt_other", key: "k")], now: now) == [
                    .duplicate(eventId: "evt_cli")
                ]
            )

            // The CLI keeps writing while the daemon claims: every event is claimed exactly once.
            let batches = 20
            let perBatch = 50
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for batch in 0..<batches {
                        let events = (0..<perBatch).map { newEvent("evt_\(batch)_\($0)") }
                        _ = try await cli.enqueue(events, now: now)
                    }
                }
                group.addTask {
                    var seen = Set<String>()
                    while seen.count < batches * perBatch {
                        let events = try await daemon.claimEvents(limit: 64, now: now, leaseUntil: now + 30)
                        for event in events {
                            #expect(seen.insert(event.event.id).inserted, "claimed twice: \(event.event.id)")
                        }
                        if events.isEmpty { await Task.yield() }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await cli.status(now: now).events[.fanningOut] == batches * perBatch + 1)
            try await cli.close()
            try await daemon.close()
        }
    }

    @Test func tenThousandEventsGoThroughThePipeline() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
            try await store.migrate()
            let count = 10_000
            let events = (0..<count).map { newEvent("evt_\($0)", key: "key_\($0)") }
            let results = try await store.enqueue(events, now: now)
            #expect(results.count == count)
            #expect(results.allSatisfy { if case .accepted = $0 { true } else { false } })

            var fannedOut = 0
            while true {
                let claimed = try await store.claimEvents(limit: 500, now: now, leaseUntil: now + 30)
                if claimed.isEmpty { break }
                try await store.completeFanOut(
                    claimed.map {
                        FanOutResult(eventId: $0.event.id, deliveries: [newDelivery($0.event.id)], suppressions: [])
                    },
                    now: now
                )
                fannedOut += claimed.count
            }
            #expect(fannedOut == count)

            var sent = 0
            while true {
                let claimed = try await store.claimDeliveries(limit: 500, now: now, leaseUntil: now + 30)
                if claimed.isEmpty { break }
                try await store.apply(claimed.map { try delivered($0) }, now: now)
                sent += claimed.count
            }
            #expect(sent == count)
            let status = try await store.status(now: now)
            #expect(status.events == [.accepted: 0, .fanningOut: 0, .fannedOut: count, .rejected: 0])
            #expect(status.deliveries == [.pending: 0, .leased: 0, .retrying: 0, .delivered: count, .dead: 0])
            #expect(status.oldestDue == nil)
            try await store.close()
        }
    }

    @Test func aLockedDatabaseIsUnavailableAndNothingIsHalfApplied() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("herald.db").path
            let store = try SQLiteStore(path: path, busyTimeout: 0.05)
            try await store.migrate()
            _ = try await seed(store, "evt_seed")
            let leased = try #require(try await store.claimDeliveries(limit: 10, now: now, leaseUntil: now + 30).first)
            _ = try await store.enqueue([newEvent("evt_fanning")], now: now)
            _ = try await store.claimEvents(limit: 10, now: now, leaseUntil: now + 30)

            // Another process holds the write lock.
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            let intruder = try DatabaseQueue(path: path, configuration: configuration)
            try await intruder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE TRANSACTION") }

            let operations: [(String, () async throws -> Void)] = [
                (
                    "enqueue",
                    {
                        _ = try await store.enqueue(
                            [self.newEvent("evt_secret_1"), self.newEvent("evt_secret_2")],
                            now: self.now
                        )
                    }
                ),
                (
                    "claimEvents",
                    { _ = try await store.claimEvents(limit: 10, now: self.now + 60, leaseUntil: self.now + 90) }
                ),
                (
                    "claimDeliveries",
                    { _ = try await store.claimDeliveries(limit: 10, now: self.now + 60, leaseUntil: self.now + 90) }
                ),
                (
                    "completeFanOut",
                    {
                        let deliveries = [self.newDelivery("evt_fanning")]
                        try await store.completeFanOut(
                            [FanOutResult(eventId: "evt_fanning", deliveries: deliveries, suppressions: [])],
                            now: self.now
                        )
                    }
                ),
                ("apply", { try await store.apply([try self.delivered(leased)], now: self.now) }),
                ("requeueDead", { _ = try await store.requeueDead(ids: nil, now: self.now) }),
                ("prune", { _ = try await store.prune(now: self.now, retention: Retention()) }),
            ]
            for (name, operation) in operations {
                let error = await #expect(throws: StoreError.self, "\(name)") { try await operation() }
                guard case .unavailable(let message) = error else {
                    Issue.record("\(name): expected StoreError.unavailable, got \(String(describing: error))")
                    continue
                }
                #expect(message.contains("locked"), "\(name): \(message)")
                #expect(!message.contains("evt_secret"), "\(name): the message leaks event data: \(message)")
            }
            // Readers are not blocked by a writer in WAL mode.
            #expect(try await store.status(now: now).deliveries[.leased] == 1)

            try await intruder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            try intruder.close()

            #expect(try await store.eventRecord(id: "evt_secret_1") == nil)
            let fanning = try #require(try await store.eventRecord(id: "evt_fanning"))
            #expect(fanning.state == .fanningOut)
            #expect(fanning.deliveries.isEmpty)
            let untouched = try #require(try await store.delivery(id: leased.id))
            #expect(untouched.state == .leased)
            #expect(untouched.attempts == 0)
            #expect(try await store.enqueue([newEvent("evt_after")], now: now) == [.accepted(eventId: "evt_after")])
            try await store.apply([try delivered(leased)], now: now)
            #expect(try await store.delivery(id: leased.id)?.state == .delivered)
            try await store.close()
        }
    }

    @Test func aReadOnlyStoreReadsButDoesNotWrite() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("herald.db").path
            let store = try SQLiteStore(path: path)
            try await store.migrate()
            _ = try await store.enqueue([newEvent("evt_1")], now: now)

            let reader = try SQLiteStore(path: path, readOnly: true)
            try await reader.migrate()
            #expect(try await reader.eventRecord(id: "evt_1")?.state == .accepted)
            let error = await #expect(throws: StoreError.self) {
                try await reader.enqueue([newEvent("evt_2")], now: now)
            }
            #expect(error.map { if case .unavailable = $0 { true } else { false } } == true)
            try await reader.close()
            try await store.close()
        }
    }

    @Test func dataSurvivesReopeningAndDeliveryIdsAreNeverReused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("nested/dir/herald.db").path
            var store = try SQLiteStore(path: path)
            try await store.migrate()
            _ = try await seed(store, "evt_1")
            let first = try #require(try await store.claimDeliveries(limit: 10, now: now, leaseUntil: now + 30).first)
            try await store.apply([try delivered(first)], now: now)
            try await store.close()

            store = try SQLiteStore(path: path)
            try await store.migrate()
            #expect(try await store.delivery(id: first.id)?.state == .delivered)
            let pruned = try await store.prune(now: now + 30 * 86400, retention: Retention())
            #expect(pruned == PruneResult(deliveries: 1, events: 1))
            // The highest id was deleted; a new delivery must still get a new id (ids name messages to vendors).
            let second = try await seed(store, "evt_2")
            #expect(second.id > first.id)
            try await store.close()
        }
    }

    @Test func attemptsAreRecorded() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
            try await store.migrate()
            let delivery = try await seed(store, "evt_1")
            let failure = AttemptRecord(
                startedAt: now + 1,
                duration: 0.125,
                result: .retry,
                reason: .rateLimited,
                status: 429,
                detail: "ratelimited"
            )
            var lease = try #require(
                try await store.claimDeliveries(limit: 10, now: now, leaseUntil: now + 30)[0].lease
            )
            try await store.apply([.retry(id: delivery.id, lease: lease, attempt: failure, at: now + 2)], now: now + 1)
            #expect(try await store.delivery(id: delivery.id)?.lastError == "rateLimited status=429: ratelimited")
            lease = try #require(
                try await store.claimDeliveries(limit: 10, now: now + 2, leaseUntil: now + 30)[0].lease
            )
            try await store.apply([.deferred(id: delivery.id, lease: lease, until: now + 3)], now: now + 2)
            lease = try #require(
                try await store.claimDeliveries(limit: 10, now: now + 3, leaseUntil: now + 30)[0].lease
            )
            let success = AttemptRecord(startedAt: now + 3, duration: 0.5, result: .delivered, status: 200)
            try await store.apply(
                [.delivered(id: delivery.id, lease: lease, attempt: success, receipt: "ts")],
                now: now + 3
            )
            #expect(try await store.attempts(deliveryId: delivery.id) == [failure, success])
            try await store.close()
        }
    }
}
