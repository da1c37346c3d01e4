import Foundation
import HeraldCore

/// Group commit for intake (SPEC §11.2): requests that arrive while a commit is in flight wait together and
/// are stored by the next `store.enqueue` as one transaction, so many singly-posted events cost one fsync.
///
/// Each request is validated before it gets here, so nothing invalid enters a shared batch. A request's
/// idempotency conflict must not fail its neighbours: when the shared transaction reports one, the batch is
/// retried one request per transaction, and only the conflicting request gets the 409. Each caller is
/// answered only after the transaction holding its events committed.
public actor EventCommitQueue {
    /// One request waiting to be committed.
    private struct Waiter {
        var events: [NewEvent]
        var continuation: CheckedContinuation<[EnqueueResult], any Error>
    }

    private let store: any Store
    private let clock: any WallClock
    /// The most events one transaction takes (a waiting request is never split).
    private let maxEventsPerCommit: Int
    private var waiting: [Waiter] = []
    private var committing = false

    /// Counts of commits and requests, for tests and the benchmark's report.
    public private(set) var commits = 0
    public private(set) var requests = 0

    public init(store: any Store, clock: any WallClock, maxEventsPerCommit: Int = 5_000) {
        self.store = store
        self.clock = clock
        self.maxEventsPerCommit = maxEventsPerCommit
    }

    /// Stores `events` (one request) and returns their results once they are durable.
    public func enqueue(_ events: [NewEvent]) async throws -> [EnqueueResult] {
        guard !events.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiter(events: events, continuation: continuation))
            if !committing {
                committing = true
                Task { await self.drain() }
            }
        }
    }

    /// Commits waiting requests batch after batch until none is left.
    private func drain() async {
        while !waiting.isEmpty {
            var batch: [Waiter] = []
            var count = 0
            while let next = waiting.first, batch.isEmpty || count + next.events.count <= maxEventsPerCommit {
                batch.append(waiting.removeFirst())
                count += next.events.count
            }
            await commit(batch, eventCount: count)
        }
        committing = false
    }

    private func commit(_ batch: [Waiter], eventCount: Int) async {
        commits += 1
        requests += batch.count
        if batch.count == 1 {
            await commitAlone(batch[0])
            return
        }
        var events: [NewEvent] = []
        events.reserveCapacity(eventCount)
        for waiter in batch { events.append(contentsOf: waiter.events) }
        do {
            let results = try await store.enqueue(events, now: clock.now())
            var offset = 0
            for waiter in batch {
                let slice = Array(results[offset..<offset + waiter.events.count])
                offset += waiter.events.count
                waiter.continuation.resume(returning: slice)
            }
        } catch StoreError.idempotencyConflict {
            // Someone's idempotency key clashed (with the store or within the batch): nothing was stored.
            // One transaction per request finds whose, in arrival order, so a repeated key within the batch
            // reads as a duplicate of the first request exactly as it would have arriving later.
            for waiter in batch { await commitAlone(waiter) }
        } catch {
            for waiter in batch { waiter.continuation.resume(throwing: error) }
        }
    }

    private func commitAlone(_ waiter: Waiter) async {
        do {
            waiter.continuation.resume(returning: try await store.enqueue(waiter.events, now: clock.now()))
        } catch {
            waiter.continuation.resume(throwing: error)
        }
    }
}
