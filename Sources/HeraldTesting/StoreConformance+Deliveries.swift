import Foundation
import HeraldCore

extension StoreConformance {
    static func claimDeliveriesEarliestFirst(_ store: any Store) async throws {
        // Fanned out at different times, so due at different times (not in storage order).
        let late = try await seedDeliveries(store, eventIds: ["evt_late"], at: at(3))
        let early = try await seedDeliveries(store, eventIds: ["evt_early"], at: at(1))
        let middle = try await seedDeliveries(store, eventIds: ["evt_middle"], at: at(2))
        try expectSameTime(try await store.nextDeliveryDue(), at(1), "nextDeliveryDue")

        try expectEqual(try await store.claimDeliveries(limit: 10, now: at(0.5), leaseUntil: at(60)), [], "none due")
        let first = try await store.claimDeliveries(limit: 1, now: at(2.5), leaseUntil: at(60))
        try expectEqual(first.map(\.id), early, "limit 1: the earliest")
        let claimed = try unwrap(first.first, "claimed")
        try expectEqual(claimed.state, .leased, "state")
        try expectSameTime(claimed.dueAt, at(60), "dueAt is the lease expiry")
        try expectSameTime(claimed.updatedAt, at(2.5), "updatedAt")
        try expectEqual(claimed.payload, newDelivery("evt_early", 0).payload, "payload")
        try expectEqual(claimed.attempts, 0, "attempts")
        try expectEqual(try await stored(store, claimed.id), claimed, "the stored delivery matches the claim")

        let second = try await store.claimDeliveries(limit: 10, now: at(2.5), leaseUntil: at(60))
        try expectEqual(second.map(\.id), middle, "the other due delivery")
        let third = try await store.claimDeliveries(limit: 10, now: at(3), leaseUntil: at(90))
        try expectEqual(third.map(\.id), late, "the last one once due")
        try expectEqual(try await store.claimDeliveries(limit: 10, now: at(59), leaseUntil: at(120)), [], "all leased")
        try expectSameTime(try await store.nextDeliveryDue(), at(60), "nextDeliveryDue is the first lease expiry")

        let status = try await store.status(now: at(4))
        try expectEqual(status.deliveries[.leased], 3, "leased")
        try expectEqual(status.deliveries[.pending], 0, "pending")
        try expectSameTime(status.oldestDue, nil, "oldestDue ignores leased deliveries")
    }

    static func claimDeliveriesLeaseExpiry(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 3, at: at(0))
        let short = try await store.claimDeliveries(limit: 2, now: at(1), leaseUntil: at(31)).map(\.id)
        let long = try await store.claimDeliveries(limit: 1, now: at(1), leaseUntil: at(61)).map(\.id)
        try expectEqual(Set(short + long), Set(ids), "all three claimed once")
        try expectEqual(
            try await store.claimDeliveries(limit: 10, now: at(30.999), leaseUntil: at(90)),
            [],
            "live leases"
        )
        let reclaimed = try await store.claimDeliveries(limit: 10, now: at(31), leaseUntil: at(91))
        try expectEqual(Set(reclaimed.map(\.id)), Set(short), "reclaimed at expiry")
        try expect(reclaimed.allSatisfy { $0.attempts == 0 }, "an expired lease is not an attempt")
        try expectSameTime(try await stored(store, short[0]).dueAt, at(91), "the new lease")
        try expectEqual(
            try await store.claimDeliveries(limit: 10, now: at(61), leaseUntil: at(121)).map(\.id),
            long,
            "third"
        )
    }

    static func applyDelivered(_ store: any Store) async throws {
        let id = try await seedDeliveries(store, eventIds: ["evt_1"], at: at(0))[0]
        _ = try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31))
        try await store.apply(
            [
                .delivered(
                    id: id,
                    lease: held(store, id),
                    attempt: attempt(.delivered, at: at(1), status: 200),
                    receipt: "1700000000.000100"
                )
            ],
            now: at(2)
        )
        let delivery = try await stored(store, id)
        try expectEqual(delivery.state, .delivered, "state")
        try expectEqual(delivery.attempts, 1, "attempts")
        try expectEqual(delivery.receipt, "1700000000.000100", "receipt")
        try expectSameTime(delivery.updatedAt, at(2), "updatedAt")
        try expectSameTime(try await store.nextDeliveryDue(), nil, "nothing left to send")
        try expectEqual(try await store.claimDeliveries(limit: 10, now: at(1000), leaseUntil: at(2000)), [], "claims")
        let status = try await store.status(now: at(2))
        try expectEqual(status.deliveries[.delivered], 1, "delivered")
        try expectEqual(status.deliveries[.leased], 0, "leased")
    }

    static func applyRetry(_ store: any Store) async throws {
        let id = try await seedDeliveries(store, eventIds: ["evt_1"], at: at(0))[0]
        _ = try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31))
        let failure = attempt(.retry, at: at(1), reason: .serverError, status: 503, detail: "upstream unavailable")
        try await store.apply([.retry(id: id, lease: held(store, id), attempt: failure, at: at(5))], now: at(2))
        var delivery = try await stored(store, id)
        try expectEqual(delivery.state, .retrying, "state")
        try expectEqual(delivery.attempts, 1, "attempts")
        try expectSameTime(delivery.dueAt, at(5), "dueAt")
        try expectEqual(delivery.lastReason, .serverError, "lastReason")
        try expect(
            delivery.lastError?.contains("upstream unavailable") == true,
            "lastError: \(String(describing: delivery.lastError))"
        )
        try expectSameTime(delivery.windowStart, at(0), "the retry window is kept")
        try expectSameTime(try await store.status(now: at(2)).oldestDue, at(5), "oldestDue")

        try expectEqual(try await store.claimDeliveries(limit: 10, now: at(4.999), leaseUntil: at(40)), [], "not yet")
        let again = try await store.claimDeliveries(limit: 10, now: at(5), leaseUntil: at(40))
        try expectEqual(again.map(\.id), [id], "due again")
        try expectEqual(again.first?.attempts, 1, "attempts so far")
        let timeout = attempt(.retry, at: at(5), reason: .timeout, detail: "timed out")
        try await store.apply([.retry(id: id, lease: held(store, id), attempt: timeout, at: at(9))], now: at(6))
        delivery = try await stored(store, id)
        try expectEqual(delivery.attempts, 2, "attempts")
        try expectEqual(delivery.lastReason, .timeout, "lastReason")
    }

    static func applyDead(_ store: any Store) async throws {
        let id = try await seedDeliveries(store, eventIds: ["evt_1"], at: at(0))[0]
        _ = try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31))
        let failure = attempt(.permanent, at: at(1), reason: .clientError, status: 404, detail: "channel_not_found")
        try await store.apply([.dead(id: id, lease: held(store, id), attempt: failure)], now: at(2))
        let delivery = try await stored(store, id)
        try expectEqual(delivery.state, .dead, "state")
        try expectEqual(delivery.attempts, 1, "attempts")
        try expectEqual(delivery.lastReason, .clientError, "lastReason")
        try expect(
            delivery.lastError?.contains("channel_not_found") == true,
            "lastError: \(String(describing: delivery.lastError))"
        )
        try expectEqual(try await store.deliveries(state: .dead, limit: 10).map(\.id), [id], "dead letters")
        try expectEqual(try await store.claimDeliveries(limit: 10, now: at(1000), leaseUntil: at(2000)), [], "claims")
        try expectSameTime(try await store.nextDeliveryDue(), nil, "nextDeliveryDue")
        let status = try await store.status(now: at(2))
        try expectEqual(status.deliveries[.dead], 1, "dead")
        try expectSameTime(status.oldestDue, nil, "oldestDue")
    }

    static func applyDeferred(_ store: any Store) async throws {
        let id = try await seedDeliveries(store, eventIds: ["evt_1"], at: at(0))[0]
        _ = try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31))
        try await store.apply([.deferred(id: id, lease: held(store, id), until: at(3))], now: at(2))
        var delivery = try await stored(store, id)
        try expectEqual(delivery.state, .pending, "never attempted: pending")
        try expectEqual(delivery.attempts, 0, "attempts")
        try expectSameTime(delivery.dueAt, at(3), "dueAt")
        try expectEqual(try await store.claimDeliveries(limit: 10, now: at(2.999), leaseUntil: at(40)), [], "not yet")

        _ = try await store.claimDeliveries(limit: 10, now: at(3), leaseUntil: at(40))
        try await store.apply(
            [
                .retry(
                    id: id,
                    lease: held(store, id),
                    attempt: attempt(.retry, at: at(3), reason: .rateLimited),
                    at: at(4)
                )
            ],
            now: at(3)
        )
        _ = try await store.claimDeliveries(limit: 10, now: at(4), leaseUntil: at(40))
        try await store.apply([.deferred(id: id, lease: held(store, id), until: at(8))], now: at(5))
        delivery = try await stored(store, id)
        try expectEqual(delivery.state, .retrying, "attempted before: retrying")
        try expectEqual(delivery.attempts, 1, "attempts unchanged")
        try expectSameTime(delivery.dueAt, at(8), "dueAt")
        try expectEqual(delivery.lastReason, .rateLimited, "the last failure is kept")
    }

    static func applyAndClaim(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 3, at: at(0))
        let nothing = try await store.applyAndClaim([], claimLimit: 0, now: at(1), leaseUntil: at(31))
        try expect(nothing.refused.isEmpty && nothing.claimed.isEmpty, "nothing to do")
        let first = try await store.applyAndClaim([], claimLimit: 1, now: at(1), leaseUntil: at(31)).claimed
        try expectEqual(first.count, 1, "claims alone")
        let claimed = try unwrap(first.first, "claimed")
        try expectEqual(claimed.state, .leased, "claimed state")
        try expectSameTime(claimed.dueAt, at(31), "claimed lease")
        let lease = try unwrap(claimed.lease, "claimed lease token")

        let round = try await store.applyAndClaim(
            [.delivered(id: claimed.id, lease: lease, attempt: attempt(.delivered, at: at(1)), receipt: "r1")],
            claimLimit: 10,
            now: at(2),
            leaseUntil: at(32)
        )
        try expect(round.refused.isEmpty, "the outcome was accepted")
        let rest = round.claimed
        try expectEqual(Set(rest.map(\.id)), Set(ids).subtracting([claimed.id]), "the other two claimed")
        let delivered = try await stored(store, claimed.id)
        try expectEqual(delivered.state, .delivered, "the outcome was applied")
        try expectEqual(delivered.attempts, 1, "attempts")
        try expectEqual(delivered.receipt, "r1", "receipt")

        var deferrals: [DeliveryUpdate] = []
        for delivery in rest {
            deferrals.append(.deferred(id: delivery.id, lease: try unwrap(delivery.lease, "lease"), until: at(50)))
        }
        let outcomesOnly = try await store.applyAndClaim(deferrals, claimLimit: 0, now: at(3), leaseUntil: at(33))
        try expect(outcomesOnly.refused.isEmpty && outcomesOnly.claimed.isEmpty, "outcomes alone claim nothing")
        let deferred = try await stored(store, rest[0].id)
        try expectEqual(deferred.state, .pending, "deferred state")
        try expectSameTime(deferred.dueAt, at(50), "deferred due")

        // The outcomes go first: one for a delivery that is no longer leased under its token is refused (and
        // returned), and the claim in the same call still takes the delivery.
        let stale = DeliveryUpdate.delivered(
            id: rest[0].id,
            lease: try unwrap(rest[0].lease, "old lease"),
            attempt: attempt(.delivered, at: at(50)),
            receipt: "stale"
        )
        let again = try await store.applyAndClaim([stale], claimLimit: 10, now: at(50), leaseUntil: at(80))
        try expectEqual(again.refused, [stale], "the stale outcome is refused")
        try expectEqual(Set(again.claimed.map(\.id)), Set(rest.map(\.id)), "reclaimed when due")
        let reclaimed = try await stored(store, rest[0].id)
        try expectEqual(reclaimed.state, .leased, "the stale outcome did not apply")
        try expectEqual(reclaimed.attempts, 0, "no attempt counted")
    }

    static func applyIgnoresUnleased(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 2, at: at(0))
        // Never claimed: an update (with a lease no claim handed out) must not touch it.
        let invented = Lease(token: 42, expiresAt: at(31))
        let refusedFirst = try await store.apply(
            [.delivered(id: ids[1], lease: invented, attempt: attempt(.delivered, at: at(1)), receipt: "r")],
            now: at(1)
        )
        try expectEqual(refusedFirst.map(\.id), [ids[1]], "the update of an unclaimed delivery is refused")
        let untouched = try await stored(store, ids[1])
        try expectEqual(untouched.state, .pending, "pending delivery state")
        try expectEqual(untouched.attempts, 0, "pending delivery attempts")

        let claimed = try leases(try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31)))
        let lease = try unwrap(claimed[ids[0]], "lease of \(ids[0])")
        try expectEqual(
            try await store.apply(
                [
                    .delivered(id: ids[0], lease: lease, attempt: attempt(.delivered, at: at(1)), receipt: "r1"),
                    .deferred(id: ids[1], lease: try unwrap(claimed[ids[1]], "lease"), until: at(100)),
                ],
                now: at(2)
            ),
            [],
            "nothing refused"
        )
        // A stale worker reports on the same delivery afterwards, with the lease it held.
        let stale: [DeliveryUpdate] = [
            .retry(id: ids[0], lease: lease, attempt: attempt(.retry, at: at(2), reason: .timeout), at: at(9)),
            .dead(id: ids[0], lease: lease, attempt: attempt(.permanent, at: at(2), reason: .clientError)),
            .deferred(id: ids[0], lease: lease, until: at(9)),
            .delivered(id: ids[0], lease: lease, attempt: attempt(.delivered, at: at(2)), receipt: "r2"),
            .delivered(id: 987_654_321, lease: lease, attempt: attempt(.delivered, at: at(2)), receipt: "r3"),
        ]
        try expectEqual(try await store.apply(stale, now: at(3)), stale, "every stale update is refused")
        let delivered = try await stored(store, ids[0])
        try expectEqual(delivered.state, .delivered, "state")
        try expectEqual(delivered.attempts, 1, "attempts")
        try expectEqual(delivered.receipt, "r1", "receipt")
        try expectSameTime(delivered.updatedAt, at(2), "updatedAt")
        try expectEqual(delivered.lease, nil, "a finished delivery holds no lease")
    }

    static func claimsCarryTheirLease(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 3, at: at(0))
        let first = try await store.claimDeliveries(limit: 2, now: at(1), leaseUntil: at(31))
        let second = try await store.claimDeliveries(limit: 2, now: at(1), leaseUntil: at(41))
        try expectEqual(Set((first + second).map(\.id)), Set(ids), "all claimed")
        for delivery in first + second {
            let lease = try unwrap(delivery.lease, "the lease of a claimed delivery")
            try expectSameTime(lease.expiresAt, delivery.dueAt, "the lease expires at the claimed due time")
            try expectEqual(try await stored(store, delivery.id).lease, lease, "the stored lease is the claimed one")
        }
        try expect(first[0].lease?.token != second[0].lease?.token, "each claim has its own token")
        let unclaimed = try await seedDeliveries(store, eventIds: ["evt_2"], at: at(0))
        try expectEqual(try await stored(store, unclaimed[0]).lease, nil, "an unclaimed delivery holds no lease")
    }

    static func fenceRefusesAReclaimedLease(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 4, at: at(0))
        let old = try leases(try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31)))
        try expectEqual(Set(old.keys), Set(ids), "claimed by the first worker")
        // The first worker stalls past its lease; a second worker claims everything again.
        let new = try leases(try await store.claimDeliveries(limit: 10, now: at(31), leaseUntil: at(61)))
        try expectEqual(Set(new.keys), Set(ids), "re-claimed by the second worker")
        try expect(ids.allSatisfy { old[$0]?.token != new[$0]?.token }, "the re-claim has a new token")

        // The first worker wakes up and reports every kind of outcome: all refused, nothing recorded.
        let late: [DeliveryUpdate] = [
            .delivered(id: ids[0], lease: old[ids[0]]!, attempt: attempt(.delivered, at: at(2)), receipt: "late"),
            .retry(id: ids[1], lease: old[ids[1]]!, attempt: attempt(.retry, at: at(2), reason: .timeout), at: at(40)),
            .dead(id: ids[2], lease: old[ids[2]]!, attempt: attempt(.permanent, at: at(2), reason: .clientError)),
            .deferred(id: ids[3], lease: old[ids[3]]!, until: at(500)),
        ]
        try expectEqual(try await store.apply(late, now: at(32)), late, "the late outcomes are refused")
        for id in ids {
            let delivery = try await stored(store, id)
            try expectEqual(delivery.state, .leased, "still leased by the second worker")
            try expectEqual(delivery.attempts, 0, "no attempt recorded")
            try expectEqual(delivery.lease, new[id], "the newer claim stands")
            try expectSameTime(delivery.dueAt, at(61), "the newer lease's expiry")
        }
        try expectEqual(
            try await store.eventRecord(id: "evt_1")?.deliveries.map(\.receipt),
            [nil, nil, nil, nil],
            "receipts"
        )

        // The second worker's outcomes apply.
        let current: [DeliveryUpdate] = ids.map {
            .delivered(id: $0, lease: new[$0]!, attempt: attempt(.delivered, at: at(33)), receipt: "r\($0)")
        }
        try expectEqual(try await store.apply(current, now: at(34)), [], "the current holder's outcomes apply")
        for id in ids {
            let delivery = try await stored(store, id)
            try expectEqual(delivery.state, .delivered, "delivered once")
            try expectEqual(delivery.attempts, 1, "one attempt")
            try expectEqual(delivery.receipt, "r\(id)", "the current holder's receipt")
        }
        // And the first worker, still late, is refused again.
        try expectEqual(try await store.apply(late, now: at(35)), late, "refused after completion too")
        try expectEqual(try await stored(store, ids[0]).attempts, 1, "still one attempt")
    }

    static func fenceAcceptsAnExpiredLeaseNobodyReclaimed(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 2, at: at(0))
        let leased = try leases(try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31)))
        // Past the expiry, but no one claimed the deliveries again: the holder still has the only claim.
        let updates: [DeliveryUpdate] = [
            .delivered(id: ids[0], lease: leased[ids[0]]!, attempt: attempt(.delivered, at: at(1)), receipt: "r"),
            .retry(
                id: ids[1],
                lease: leased[ids[1]]!,
                attempt: attempt(.retry, at: at(1), reason: .timeout),
                at: at(50)
            ),
        ]
        try expectEqual(try await store.apply(updates, now: at(45)), [], "nothing refused")
        try expectEqual(try await stored(store, ids[0]).state, .delivered, "delivered")
        let retrying = try await stored(store, ids[1])
        try expectEqual(retrying.state, .retrying, "retrying")
        try expectEqual(retrying.lease, nil, "the lease is released")
        try expectEqual(
            try await store.claimDeliveries(limit: 10, now: at(49), leaseUntil: at(80)),
            [],
            "not claimable before its retry time"
        )
        try expectEqual(
            try await store.claimDeliveries(limit: 10, now: at(50), leaseUntil: at(80)).map(\.id),
            [ids[1]],
            "claimable at its retry time"
        )
    }

    static func applyMixedBatch(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1", "evt_2"], perEvent: 2, at: at(0))
        let claimed = try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(31))
        try expectEqual(Set(claimed.map(\.id)), Set(ids), "claimed")
        try await store.apply(
            [
                .delivered(
                    id: ids[0],
                    lease: held(store, ids[0]),
                    attempt: attempt(.delivered, at: at(1)),
                    receipt: nil
                ),
                .retry(
                    id: ids[1],
                    lease: held(store, ids[1]),
                    attempt: attempt(.retry, at: at(1), reason: .connection),
                    at: at(10)
                ),
                .dead(
                    id: ids[2],
                    lease: held(store, ids[2]),
                    attempt: attempt(.permanent, at: at(1), reason: .authentication)
                ),
                .deferred(id: ids[3], lease: held(store, ids[3]), until: at(20)),
            ],
            now: at(2)
        )
        let states = try await ids.asyncMap { try await stored(store, $0).state }
        try expectEqual(states, [.delivered, .retrying, .dead, .pending], "states")
        try expectEqual(try await stored(store, ids[0]).receipt, nil, "no receipt")
        let status = try await store.status(now: at(2))
        try expectEqual(status.deliveries, [.pending: 1, .leased: 0, .retrying: 1, .delivered: 1, .dead: 1], "counts")
        try expectSameTime(status.oldestDue, at(10), "oldestDue")
        try expectSameTime(try await store.nextDeliveryDue(), at(10), "nextDeliveryDue")
    }

    static func nextDueAndStatus(_ store: any Store) async throws {
        let first = try await seedDeliveries(store, eventIds: ["evt_1"], at: at(1))
        try await seedDeliveries(store, eventIds: ["evt_2"], at: at(5))
        try await seedDeliveries(store, eventIds: ["evt_3"], at: at(7))
        try expectEqual(
            try await store.claimDeliveries(limit: 1, now: at(1), leaseUntil: at(3)).map(\.id),
            first,
            "claim"
        )
        try expectSameTime(try await store.nextDeliveryDue(), at(3), "nextDeliveryDue counts the lease expiry")
        let status = try await store.status(now: at(1))
        try expectSameTime(status.oldestDue, at(5), "oldestDue counts pending and retrying only")
        try expectEqual(status.events, [.accepted: 0, .fanningOut: 0, .fannedOut: 3, .rejected: 0], "events")
        try expectEqual(
            status.deliveries,
            [.pending: 2, .leased: 1, .retrying: 0, .delivered: 0, .dead: 0],
            "deliveries"
        )
    }

    static func deliveriesListing(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 4, at: at(0))
        _ = try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(100))
        try await store.apply([.deferred(id: ids[3], lease: held(store, ids[3]), until: at(1000))], now: at(5))
        try await store.apply(
            [
                .dead(
                    id: ids[0],
                    lease: held(store, ids[0]),
                    attempt: attempt(.permanent, at: at(1), reason: .clientError)
                )
            ],
            now: at(10)
        )
        try await store.apply(
            [.delivered(id: ids[2], lease: held(store, ids[2]), attempt: attempt(.delivered, at: at(1)), receipt: nil)],
            now: at(15)
        )
        try await store.apply(
            [
                .dead(
                    id: ids[1],
                    lease: held(store, ids[1]),
                    attempt: attempt(.permanent, at: at(1), reason: .clientError)
                )
            ],
            now: at(20)
        )
        try expectEqual(
            try await store.deliveries(state: .dead, limit: 10).map(\.id),
            [ids[1], ids[0]],
            "dead letters"
        )
        try expectEqual(try await store.deliveries(state: .dead, limit: 1).map(\.id), [ids[1]], "limit")
        try expectEqual(try await store.deliveries(state: .delivered, limit: 10).map(\.id), [ids[2]], "delivered")
        try expectEqual(try await store.deliveries(state: .pending, limit: 10).map(\.id), [ids[3]], "pending")
        try expectEqual(try await store.deliveries(state: .retrying, limit: 10), [], "retrying")
        try expectEqual(
            try await store.deliveries(state: nil, limit: 10).map(\.id),
            [ids[1], ids[2], ids[0], ids[3]],
            "all"
        )
        let listed = try await store.deliveries(state: .delivered, limit: 10)
        try expectEqual(listed, [try await stored(store, ids[2])], "listed deliveries are complete")
    }

    static func requeueDead(_ store: any Store) async throws {
        let ids = try await seedDeliveries(store, eventIds: ["evt_1"], perEvent: 4, at: at(0))
        _ = try await store.claimDeliveries(limit: 10, now: at(1), leaseUntil: at(100))
        try await store.apply(
            [
                .deferred(id: ids[3], lease: held(store, ids[3]), until: at(40)),
                .retry(
                    id: ids[0],
                    lease: held(store, ids[0]),
                    attempt: attempt(.retry, at: at(1), reason: .serverError),
                    at: at(2)
                ),
                .dead(
                    id: ids[1],
                    lease: held(store, ids[1]),
                    attempt: attempt(.permanent, at: at(1), reason: .clientError)
                ),
                .delivered(
                    id: ids[2],
                    lease: held(store, ids[2]),
                    attempt: attempt(.delivered, at: at(1)),
                    receipt: nil
                ),
            ],
            now: at(2)
        )
        _ = try await store.claimDeliveries(limit: 1, now: at(2), leaseUntil: at(100))
        try await store.apply(
            [.dead(id: ids[0], lease: held(store, ids[0]), attempt: attempt(.retry, at: at(2), reason: .serverError))],
            now: at(3)
        )

        let requeued = try await store.requeueDead(ids: [ids[1], ids[2], ids[3], 987_654_321], now: at(50))
        try expectEqual(requeued, 1, "only the dead letter among the ids")
        let replayed = try await stored(store, ids[1])
        try expectEqual(replayed.state, .pending, "state")
        try expectEqual(replayed.attempts, 0, "attempts")
        try expectSameTime(replayed.windowStart, at(50), "a fresh retry window")
        try expectSameTime(replayed.dueAt, at(50), "due now")
        try expectEqual(try await stored(store, ids[2]).state, .delivered, "a delivered delivery stays delivered")
        try expectEqual(try await stored(store, ids[3]).state, .pending, "a pending delivery is untouched")
        try expectSameTime(try await stored(store, ids[3]).windowStart, at(0), "its window too")
        try expectSameTime(try await stored(store, ids[3]).dueAt, at(40), "its due time too")
        try expectEqual(try await stored(store, ids[0]).state, .dead, "a dead letter not named stays dead")

        try expectEqual(try await store.requeueDead(ids: nil, now: at(60)), 1, "all the remaining dead letters")
        try expectEqual(try await stored(store, ids[0]).attempts, 0, "attempts reset")
        try expectEqual(try await store.requeueDead(ids: nil, now: at(61)), 0, "no dead letter left")
        let due = try await store.claimDeliveries(limit: 10, now: at(60), leaseUntil: at(120))
        try expectEqual(Set(due.map(\.id)), [ids[0], ids[1], ids[3]], "replayed letters are due")
        try expectEqual(try await store.status(now: at(60)).deliveries[.dead], 0, "dead")
    }

    static func prune(_ store: any Store) async throws {
        let retention = Retention(delivered: 100, dead: 1000, idempotency: 50)
        _ = try await store.enqueue(
            [
                newEvent("evt_delivered", key: "k_delivered"), newEvent("evt_dead"), newEvent("evt_pending"),
                newEvent("evt_suppressed"),
            ],
            now: at(0)
        )
        _ = try await store.claimEvents(limit: 10, now: at(0), leaseUntil: at(30))
        try await store.completeFanOut(
            ["evt_delivered", "evt_dead", "evt_pending"].map {
                FanOutResult(eventId: $0, deliveries: [newDelivery($0, 0)], suppressions: [])
            } + [
                FanOutResult(
                    eventId: "evt_suppressed",
                    deliveries: [],
                    suppressions: [
                        Suppression(
                            eventId: "evt_suppressed",
                            recipient: "user:u1",
                            channel: nil,
                            reason: "preference:never"
                        )
                    ]
                )
            ],
            now: at(0)
        )
        let id: (String) async throws -> Int64 = { eventId in
            try unwrap(try await store.eventRecord(id: eventId)?.deliveries.first?.id, "delivery of \(eventId)")
        }
        let delivered = try await id("evt_delivered")
        let dead = try await id("evt_dead")
        let pending = try await id("evt_pending")
        _ = try await store.claimDeliveries(limit: 10, now: at(5), leaseUntil: at(30))
        try await store.apply(
            [
                .delivered(
                    id: delivered,
                    lease: held(store, delivered),
                    attempt: attempt(.delivered, at: at(5)),
                    receipt: nil
                ),
                .dead(
                    id: dead,
                    lease: held(store, dead),
                    attempt: attempt(.permanent, at: at(5), reason: .clientError)
                ),
                .deferred(id: pending, lease: held(store, pending), until: at(10_000)),
            ],
            now: at(10)
        )
        _ = try await store.enqueue([newEvent("evt_recent")], now: at(120))
        _ = try await store.claimEvents(limit: 10, now: at(120), leaseUntil: at(150))
        try await store.completeFanOut(
            [FanOutResult(eventId: "evt_recent", deliveries: [], suppressions: [])],
            now: at(120)
        )

        let first = try await store.prune(now: at(150), retention: retention)
        try expectEqual(first, PruneResult(deliveries: 1, events: 2), "first prune")
        try expect(try await store.delivery(id: delivered) == nil, "the delivered delivery is pruned")
        try expect(try await store.eventRecord(id: "evt_delivered") == nil, "its event too")
        try expect(try await store.eventRecord(id: "evt_suppressed") == nil, "an event without deliveries")
        try expect(try await store.delivery(id: dead) != nil, "a dead letter within its retention stays")
        try expect(try await store.eventRecord(id: "evt_dead") != nil, "so does its event")
        try expect(try await store.eventRecord(id: "evt_pending") != nil, "an event with a queued delivery stays")
        try expect(try await store.eventRecord(id: "evt_recent") != nil, "a recent event stays")
        // The key was forgotten with its event: a different body under it is a new event.
        try expectEqual(
            try await store.enqueue([newEvent("evt_new", key: "k_delivered", body: "different")], now: at(150)),
            [.accepted(eventId: "evt_new")],
            "a forgotten key"
        )

        let second = try await store.prune(now: at(1011), retention: retention)
        try expectEqual(
            second,
            PruneResult(deliveries: 1, events: 2),
            "second prune: the dead letter, its event, evt_recent"
        )
        try expect(try await store.eventRecord(id: "evt_new") != nil, "an event not yet fanned out stays")
        try expect(try await store.delivery(id: pending) != nil, "a queued delivery is never pruned")
        let status = try await store.status(now: at(1011))
        try expectEqual(status.events, [.accepted: 1, .fanningOut: 0, .fannedOut: 1, .rejected: 0], "events left")
    }

    static func pruneKeepsRememberedEvents(_ store: any Store) async throws {
        let retention = Retention(delivered: 100, dead: 100, idempotency: 1000)
        _ = try await store.enqueue([newEvent("evt_1", key: "k1")], now: at(0))
        _ = try await store.claimEvents(limit: 10, now: at(0), leaseUntil: at(30))
        try await store.completeFanOut([FanOutResult(eventId: "evt_1", deliveries: [], suppressions: [])], now: at(1))
        try expectEqual(try await store.prune(now: at(500), retention: retention).events, 0, "pruned events")
        try expectEqual(
            try await store.enqueue([newEvent("evt_2", key: "k1")], now: at(500)),
            [.duplicate(eventId: "evt_1")],
            "a remembered key still answers with the original"
        )
        let error = try await expectError("a different body under a remembered key") {
            try await store.enqueue([newEvent("evt_3", key: "k1", body: "different")], now: at(500))
        }
        try expectEqual(error as? StoreError, .idempotencyConflict(index: 0, key: "k1"), "error")
        try expectEqual(try await store.prune(now: at(1001), retention: retention).events, 1, "pruned with its key")
        try expect(try await store.eventRecord(id: "evt_1") == nil, "evt_1 is gone")
    }

    static func wholePipelineBatch(_ store: any Store) async throws {
        let count = 400
        let eventIds = (0..<count).map { "evt_\($0)" }
        let results = try await store.enqueue(eventIds.map { newEvent($0, key: "key-\($0)") }, now: at(0))
        try expectEqual(results, eventIds.map { .accepted(eventId: $0) }, "results")
        let claimed = try await store.claimEvents(limit: count * 2, now: at(1), leaseUntil: at(31))
        try expectEqual(claimed.map(\.event.id), eventIds, "claimed in order")
        try await store.completeFanOut(
            eventIds.map { id in
                FanOutResult(
                    eventId: id,
                    deliveries: [newDelivery(id, 0), newDelivery(id, 1, channel: .email)],
                    suppressions: []
                )
            },
            now: at(2)
        )
        let deliveries = try await store.claimDeliveries(limit: count * 3, now: at(3), leaseUntil: at(33))
        try expectEqual(deliveries.count, count * 2, "claimed deliveries")
        try await store.apply(
            try deliveries.map {
                .delivered(
                    id: $0.id,
                    lease: try unwrap($0.lease, "lease"),
                    attempt: attempt(.delivered, at: at(3)),
                    receipt: "r\($0.id)"
                )
            },
            now: at(4)
        )
        let status = try await store.status(now: at(4))
        try expectEqual(status.events[.fannedOut], count, "fanned out")
        try expectEqual(status.deliveries[.delivered], count * 2, "delivered")
        try expectSameTime(status.oldestDue, nil, "oldestDue")
        try expectEqual(
            try await store.enqueue([newEvent("evt_again", key: "key-evt_7")], now: at(5)),
            [.duplicate(eventId: "evt_7")],
            "keys of a large batch are remembered"
        )
    }
}

extension Array {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
