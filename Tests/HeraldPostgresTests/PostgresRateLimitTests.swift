import Foundation
import HeraldCore
import HeraldPostgres
import HeraldTesting
import Testing

/// Rate limits shared through the database (SPEC §13 rule 5): two stores — two instances — on one database take
/// their destination's tokens from one bucket, so together they claim no faster than the limit. Times are the
/// callers' (`timeSource: .caller`), stepped by hand: token accounting, not wall-clock speed.
@Suite(.serialized, .enabled(if: PostgresTestDatabase.serverURL != nil || printSkip()))
struct PostgresRateLimitTests {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)
    static let limited = 7
    static let unlimited = 8
    static let limit = RateLimit(perSecond: 10, burst: 5)

    static func at(_ seconds: Double) -> Date { epoch.addingTimeInterval(seconds) }

    /// Two instances on one fresh database, both pacing notifier 7 at 10/s with a burst of 5.
    private func instances() async throws -> (PostgresStore, PostgresStore) {
        let url = try await PostgresTestDatabase.create()
        let options = PostgresStoreOptions(
            url: url,
            poolSize: 2,
            timeSource: .caller,
            operationTimeout: PostgresTestDatabase.loadedMachineTimeout,
            connectionWait: PostgresTestDatabase.loadedMachineTimeout
        )
        let first = try PostgresStore(options: options, logger: PostgresTestDatabase.logger)
        let second = try PostgresStore(options: options, logger: PostgresTestDatabase.logger)
        try await first.migrate()
        try await second.migrate()
        for store in [first, second] {
            #expect(
                store.shareRateLimits([Self.limited: Self.limit, Self.unlimited: RateLimit(perSecond: 0, burst: 0)])
            )
        }
        return (first, second)
    }

    /// Stores `count` deliveries to one destination of `notifier`, due at `now`; returns their ids.
    @discardableResult
    private func seed(
        _ store: PostgresStore,
        _ count: Int,
        notifier: Int,
        label: String,
        now: Date
    ) async throws
        -> [Int64]
    {
        let events = (0..<count).map { index in
            NewEvent(
                event: Event(
                    id: "evt_\(label)_\(index)",
                    key: "resolved",
                    organization: "acme",
                    project: "backend",
                    occurredAt: now
                ),
                idempotencyKey: nil,
                canonicalBody: Data(#"{"n":\#(index)}"#.utf8)
            )
        }
        _ = try await store.enqueue(events, now: now)
        let claimed = try await store.claimEvents(limit: count, now: now, leaseUntil: now.addingTimeInterval(30))
        try #require(claimed.count == count)
        try await store.completeFanOut(
            claimed.map { claimed in
                FanOutResult(
                    eventId: claimed.event.id,
                    deliveries: [
                        NewDelivery(
                            eventId: claimed.event.id,
                            channel: .webhook,
                            notifierId: notifier,
                            recipient: Recipient(kind: .address, address: "https://hooks.example/\(label)"),
                            reason: .explicit,
                            destination: "https://hooks.example/\(label)",
                            payload: Data("{}".utf8),
                            contentType: "application/json"
                        )
                    ],
                    suppressions: []
                )
            },
            now: now
        )
        var ids: [Int64] = []
        for claimed in claimed {
            ids += try #require(try await store.eventRecord(id: claimed.event.id)).deliveries.map(\.id)
        }
        return ids
    }

    private func delivered(_ claimed: [Delivery], at now: Date) -> [DeliveryUpdate] {
        claimed.map { delivery in
            .delivered(
                id: delivery.id,
                lease: delivery.lease ?? Lease(token: 0, expiresAt: now),
                attempt: AttemptRecord(startedAt: now, duration: 0.01, result: .delivered),
                receipt: nil
            )
        }
    }

    @Test("two instances taking turns claim a limited destination at its rate in total, the others at once")
    func instancesTakingTurns() async throws {
        try await PostgresServerLock.shared.sharing { try await self.instancesTakingTurnsBody() }
    }

    private func instancesTakingTurnsBody() async throws {
        let (first, second) = try await instances()
        let free = Set(try await seed(first, 20, notifier: Self.unlimited, label: "free", now: Self.at(0)))
        let paced = Set(try await seed(first, 100, notifier: Self.limited, label: "paced", now: Self.at(0)))
        var claimedAt: [Int64: Double] = [:]
        var byInstance = [0, 0]
        var pending: [[DeliveryUpdate]] = [[], []]
        // Every 30 ms one of the two claims (and records what it claimed the round before), for 5 seconds.
        for step in 0...166 {
            let seconds = Double(step) * 0.03
            let now = Self.at(seconds)
            let index = step % 2
            let store = index == 0 ? first : second
            let round = try await store.applyAndClaim(
                pending[index],
                claimLimit: 256,
                now: now,
                leaseUntil: now.addingTimeInterval(60)
            )
            #expect(round.refused.isEmpty)
            for delivery in round.claimed {
                #expect(claimedAt[delivery.id] == nil, "delivery \(delivery.id) claimed twice")
                claimedAt[delivery.id] = seconds
                if paced.contains(delivery.id) { byInstance[index] += 1 }
            }
            pending[index] = delivered(round.claimed, at: now)
            // The bucket: at most the burst plus the rate times the time gone by, whichever instance asked.
            let pacedSoFar = claimedAt.keys.filter(paced.contains).count
            #expect(
                Double(pacedSoFar) <= Double(Self.limit.burst) + Self.limit.perSecond * (seconds + 0.001),
                "\(pacedSoFar) paced deliveries claimed by \(seconds) s"
            )
        }
        #expect(free.allSatisfy { claimedAt[$0] == 0 }, "unlimited deliveries are claimed at once")
        let pacedClaimed = claimedAt.keys.filter(paced.contains).count
        // 5 at once, then one every 100 ms up to 4.98 s: no token is lost or taken twice by a reserved turn.
        #expect((53...55).contains(pacedClaimed), "\(pacedClaimed) paced deliveries claimed in 5 s")
        #expect(byInstance[0] > 10 && byInstance[1] > 10, "both instances sent to the destination: \(byInstance)")
        // What is left waits in the queue, due at its reserved turn.
        let status = try await first.status(now: Self.at(5))
        #expect(status.deliveries[.pending] == 100 - pacedClaimed)
        try await first.close()
        try await second.close()
    }

    @Test("two instances claiming at the same instant share one burst")
    func concurrentClaims() async throws {
        try await PostgresServerLock.shared.sharing { try await self.concurrentClaimsBody() }
    }

    private func concurrentClaimsBody() async throws {
        let start = 0.0
        let (first, second) = try await instances()
        try await seed(first, 60, notifier: Self.limited, label: "burst", now: Self.at(0))
        var total = 0
        for offset in [start, start + 1] {
            let now = Self.at(offset)
            async let a = first.claimDeliveries(limit: 40, now: now, leaseUntil: now.addingTimeInterval(60))
            async let b = second.claimDeliveries(limit: 40, now: now, leaseUntil: now.addingTimeInterval(60))
            let (left, right) = try await (a, b)
            #expect(Set(left.map(\.id)).isDisjoint(with: right.map(\.id)))
            total += left.count + right.count
            // Burst 5 at the first instant, then 10 tokens in the second that follows.
            #expect(total <= (offset == start ? 5 : 15), "\(total) claimed by \(offset) s")
        }
        #expect(total >= 14, "the tokens were used: \(total)")
        try await first.close()
        try await second.close()
    }
}
