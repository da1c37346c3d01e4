import Foundation
import GRDB
import HeraldCore
import HeraldSQLite
import Testing

@Suite struct BackgroundCheckpointTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// Events with bodies large enough that a few batches fill many log pages.
    private func batch(_ number: Int) -> [NewEvent] {
        (0..<200).map { index in
            var event = Event(
                id: "evt_\(number)_\(index)",
                key: "resolved",
                organization: "acme",
                project: "backend",
                occurredAt: now
            )
            event.data = ["filler": .string(String(repeating: "x", count: 2_000))]
            return NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data("{}".utf8))
        }
    }

    @Test func theDaemonsStoreCopiesTheLogBackOnItsOwnThread() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("herald.db").path
            let store = try SQLiteStore(path: path, announcesWrites: false, checkpointsInBackground: true)
            try await store.migrate()
            for number in 0..<5 {
                _ = try await store.enqueue(batch(number), now: now)
            }
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while (store.backgroundCheckpoints ?? 0) == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect((store.backgroundCheckpoints ?? 0) > 0)
            try await store.close()
            // Everything committed is in the file after close, whoever checkpointed it.
            let queue = try DatabaseQueue(path: path)
            #expect(try await queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") } == 1_000)
        }
    }

    @Test func commandLineStoresLeaveCheckpointsToTheDaemon() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("herald.db").path
            let store = try SQLiteStore(path: path)
            try await store.migrate()
            _ = try await store.enqueue(batch(0), now: now)
            #expect(store.backgroundCheckpoints == nil)
            try await store.close()
        }
    }

    @Test func closingTwiceIsHarmless() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("herald.db").path
            let store = try SQLiteStore(path: path, announcesWrites: false, checkpointsInBackground: true)
            try await store.migrate()
            _ = try await store.enqueue(batch(0), now: now)
            try await store.close()
            try await store.close()
        }
    }
}
