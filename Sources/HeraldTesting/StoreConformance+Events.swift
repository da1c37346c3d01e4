import Foundation
import HeraldCore

extension StoreConformance {
    static func emptyStore(_ store: any Store) async throws {
        try await store.migrate()
        let status = try await store.status(now: at(0))
        try expectEqual(status.events, Dictionary(uniqueKeysWithValues: EventState.allCases.map { ($0, 0) }), "events")
        try expectEqual(
            status.deliveries,
            Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) }),
            "deliveries"
        )
        try expectSameTime(status.oldestDue, nil, "oldestDue")
        try expectSameTime(try await store.nextDeliveryDue(), nil, "nextDeliveryDue")
        try expect(try await !store.hasClaimableEvents(now: at(0)), "nothing claimable in an empty store")
        try expectEqual(try await store.claimEvents(limit: 10, now: at(0), leaseUntil: at(30)), [], "claimEvents")
        try expectEqual(try await store.claimDeliveries(limit: 10, now: at(0), leaseUntil: at(30)), [], "claims")
        try expectEqual(try await store.enqueue([], now: at(0)), [], "empty batch")
        try expectEqual(try await store.deliveries(state: nil, limit: 10), [], "deliveries")
        try expect(try await store.delivery(id: 1) == nil, "unknown delivery")
        try expect(try await store.eventRecord(id: "evt_unknown") == nil, "unknown event")
        try expectEqual(try await store.requeueDead(ids: nil, now: at(0)), 0, "requeued")
        try expectEqual(
            try await store.prune(now: at(0), retention: Retention()),
            PruneResult(deliveries: 0, events: 0),
            "pruned"
        )
    }

    static func enqueueStoresEvents(_ store: any Store) async throws {
        let keyed = newEvent("evt_keyed", key: "evt_keyed", rich: true)
        let unkeyed = newEvent("evt_unkeyed")
        let results = try await store.enqueue([keyed, unkeyed], now: at(1.234))
        try expectEqual(results, [.accepted(eventId: "evt_keyed"), .accepted(eventId: "evt_unkeyed")], "results")
        for newEvent in [keyed, unkeyed] {
            let record = try unwrap(try await store.eventRecord(id: newEvent.event.id), "record")
            try expectEqual(normalized(record.event), normalized(newEvent.event), "stored event")
            try expectEqual(record.state, .accepted, "state")
            try expectSameTime(record.acceptedAt, at(1.234), "acceptedAt")
            try expectEqual(record.deliveries, [], "deliveries")
            try expectEqual(record.suppressions, [], "suppressions")
        }
        let status = try await store.status(now: at(2))
        try expectEqual(status.events[.accepted], 2, "accepted events")
        try expectEqual(status.events[.fannedOut], 0, "fanned-out events")
    }

    static func enqueueDuplicate(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_1", key: "k1", body: "same")], now: at(0))
        let again = try await store.enqueue(
            [newEvent("evt_2", key: "k1", body: "same"), newEvent("evt_3")],
            now: at(60)
        )
        try expectEqual(again, [.duplicate(eventId: "evt_1"), .accepted(eventId: "evt_3")], "results")
        try expect(try await store.eventRecord(id: "evt_2") == nil, "the duplicate is not stored")
        let original = try unwrap(try await store.eventRecord(id: "evt_1"), "original")
        try expectSameTime(original.acceptedAt, at(0), "the original keeps its acceptance time")
        try expectEqual(try await store.status(now: at(60)).events[.accepted], 2, "accepted events")
    }

    static func enqueueConflict(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_1", key: "k1", body: "first")], now: at(0))
        let batch = [newEvent("evt_2"), newEvent("evt_3", key: "k3"), newEvent("evt_4", key: "k1", body: "second")]
        let error = try await expectError("conflicting batch") { try await store.enqueue(batch, now: at(1)) }
        try expectEqual(error as? StoreError, .idempotencyConflict(index: 2, key: "k1"), "error")
        for id in ["evt_2", "evt_3", "evt_4"] {
            try expect(try await store.eventRecord(id: id) == nil, "\(id) must not be stored")
        }
        // k3 was rolled back with the batch: it is free.
        let retry = try await store.enqueue([newEvent("evt_5", key: "k3", body: "other")], now: at(2))
        try expectEqual(retry, [.accepted(eventId: "evt_5")], "k3 after the refused batch")
        try expectEqual(try await store.status(now: at(2)).events[.accepted], 2, "accepted events")
    }

    static func enqueueKeyRepeatedInBatch(_ store: any Store) async throws {
        let identical = try await store.enqueue(
            [newEvent("evt_1", key: "k1"), newEvent("evt_2", key: "k1")],
            now: at(0)
        )
        try expectEqual(identical, [.accepted(eventId: "evt_1"), .duplicate(eventId: "evt_1")], "identical")
        try expect(try await store.eventRecord(id: "evt_2") == nil, "the repeat is not stored")

        let error = try await expectError("different bodies under one key") {
            try await store.enqueue(
                [newEvent("evt_3", key: "k3", body: "a"), newEvent("evt_4", key: "k3", body: "b")],
                now: at(1)
            )
        }
        try expectEqual(error as? StoreError, .idempotencyConflict(index: 1, key: "k3"), "error")
        try expect(try await store.eventRecord(id: "evt_3") == nil, "nothing of the refused batch is stored")
    }

    static func enqueueTakenEventId(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_1")], now: at(0))
        let error = try await expectError("a second event with the same id") {
            try await store.enqueue([newEvent("evt_2"), newEvent("evt_1", body: "other")], now: at(1))
        }
        try expect(error is StoreError, "a StoreError, got \(error)")
        try expect(try await store.eventRecord(id: "evt_2") == nil, "nothing of the refused batch is stored")
    }

    static func claimEventsOldestFirst(_ store: any Store) async throws {
        // Stored in this order, with acceptance times in the opposite order: storage order wins.
        _ = try await store.enqueue([newEvent("evt_1", rich: true)], now: at(3))
        _ = try await store.enqueue([newEvent("evt_2")], now: at(2))
        _ = try await store.enqueue([newEvent("evt_3"), newEvent("evt_4")], now: at(1))
        _ = try await store.enqueue([newEvent("evt_5")], now: at(20))

        try expectEqual(try await store.claimEvents(limit: 10, now: at(0.5), leaseUntil: at(30)), [], "nothing due yet")

        let first = try await store.claimEvents(limit: 2, now: at(10), leaseUntil: at(40))
        try expectEqual(first.map(\.event.id), ["evt_1", "evt_2"], "first claim")
        try expectEqual(normalized(first[0].event), normalized(richEvent("evt_1")), "claimed event")
        try expectSameTime(first[0].acceptedAt, at(3), "acceptedAt")
        try expectSameTime(first[1].acceptedAt, at(2), "acceptedAt")
        try expectEqual(try await store.eventRecord(id: "evt_1")?.state, .fanningOut, "claimed state")

        let second = try await store.claimEvents(limit: 10, now: at(10), leaseUntil: at(40))
        try expectEqual(second.map(\.event.id), ["evt_3", "evt_4"], "second claim skips leased and not-yet-due events")
        try expectEqual(try await store.claimEvents(limit: 10, now: at(10), leaseUntil: at(40)), [], "third claim")
        try expectEqual(try await store.eventRecord(id: "evt_5")?.state, .accepted, "evt_5 state")

        let status = try await store.status(now: at(10))
        try expectEqual(status.events[.fanningOut], 4, "fanning out")
        try expectEqual(status.events[.accepted], 1, "accepted")
    }

    static func claimEventsLeaseExpiry(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_1"), newEvent("evt_2")], now: at(0))
        _ = try await store.claimEvents(limit: 1, now: at(1), leaseUntil: at(31))
        _ = try await store.claimEvents(limit: 1, now: at(1), leaseUntil: at(61))
        try expectEqual(
            try await store.claimEvents(limit: 10, now: at(30.999), leaseUntil: at(90)),
            [],
            "before expiry"
        )
        let reclaimed = try await store.claimEvents(limit: 10, now: at(31), leaseUntil: at(91))
        try expectEqual(reclaimed.map(\.event.id), ["evt_1"], "reclaimed at expiry")
        try expectSameTime(reclaimed.first?.acceptedAt, at(0), "acceptedAt is kept")
        try expectEqual(
            try await store.claimEvents(limit: 10, now: at(61), leaseUntil: at(121)).map(\.event.id),
            ["evt_2"],
            "evt_2"
        )
        try expectEqual(
            try await store.claimEvents(limit: 10, now: at(91), leaseUntil: at(151)).map(\.event.id),
            ["evt_1"],
            "evt_1 again"
        )
    }

    static func hasClaimableEvents(_ store: any Store) async throws {
        try expect(try await !store.hasClaimableEvents(now: at(0)), "empty")
        _ = try await store.enqueue([newEvent("evt_1")], now: at(1))
        try expect(try await !store.hasClaimableEvents(now: at(0.999)), "not due before acceptance")
        try expect(try await store.hasClaimableEvents(now: at(1)), "accepted")
        _ = try await store.claimEvents(limit: 10, now: at(2), leaseUntil: at(32))
        try expect(try await !store.hasClaimableEvents(now: at(2)), "leased")
        try expect(try await store.hasClaimableEvents(now: at(32)), "lease expired")
        try await store.completeFanOut([FanOutResult(eventId: "evt_1", deliveries: [], suppressions: [])], now: at(3))
        try expect(try await !store.hasClaimableEvents(now: at(1000)), "fanned out")
    }

    static func completeFanOutStores(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_1"), newEvent("evt_2")], now: at(0))
        _ = try await store.claimEvents(limit: 10, now: at(1), leaseUntil: at(31))
        let deliveries = [newDelivery("evt_1", 0, channel: .email), newDelivery("evt_1", 1), newDelivery("evt_1", 2)]
        let suppressions = [
            Suppression(eventId: "evt_1", recipient: "user:u9", channel: .sms, reason: "no_address:sms"),
            Suppression(eventId: "evt_1", recipient: "user:u8", channel: nil, reason: "actor_excluded"),
        ]
        try await store.completeFanOut(
            [FanOutResult(eventId: "evt_1", deliveries: deliveries, suppressions: suppressions)],
            now: at(2.5)
        )

        let record = try unwrap(try await store.eventRecord(id: "evt_1"), "record")
        try expectEqual(record.state, .fannedOut, "event state")
        try expectEqual(record.suppressions, suppressions, "suppressions")
        try expectEqual(record.deliveries.count, 3, "deliveries")
        try expectEqual(Set(record.deliveries.map(\.id)).count, 3, "distinct delivery ids")
        for (stored, expected) in zip(record.deliveries.sorted { $0.id < $1.id }, deliveries) {
            try expectEqual(stored.eventId, "evt_1", "eventId")
            try expectEqual(stored.channel, expected.channel, "channel")
            try expectEqual(stored.notifierId, expected.notifierId, "notifierId")
            try expectEqual(stored.recipient, expected.recipient, "recipient")
            try expectEqual(stored.reason, expected.reason, "reason")
            try expectEqual(stored.destination, expected.destination, "destination")
            try expectEqual(stored.payload, expected.payload, "payload")
            try expectEqual(stored.contentType, expected.contentType, "contentType")
            try expectEqual(stored.state, .pending, "state")
            try expectEqual(stored.attempts, 0, "attempts")
            try expectSameTime(stored.createdAt, at(0), "createdAt is the event's acceptance")
            try expectSameTime(stored.windowStart, at(2.5), "windowStart")
            try expectSameTime(stored.dueAt, at(2.5), "dueAt")
            try expectSameTime(stored.updatedAt, at(2.5), "updatedAt")
            try expect(stored.lastError == nil && stored.lastReason == nil && stored.receipt == nil, "no outcome yet")
            try expectEqual(try await store.delivery(id: stored.id), stored, "delivery(id:)")
        }
        try expectEqual(try await store.eventRecord(id: "evt_2")?.state, .fanningOut, "evt_2 untouched")
        try expect(try await !store.hasClaimableEvents(now: at(30.5)), "evt_1 is done; evt_2 is leased")
        let reclaimed = try await store.claimEvents(limit: 10, now: at(31), leaseUntil: at(61))
        try expectEqual(reclaimed.map(\.event.id), ["evt_2"], "only the unfinished event comes back")

        let status = try await store.status(now: at(3))
        try expectEqual(status.events[.fannedOut], 1, "fanned out")
        try expectEqual(status.deliveries[.pending], 3, "pending")
        try expectSameTime(status.oldestDue, at(2.5), "oldestDue")
    }

    static func completeFanOutOnce(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_1"), newEvent("evt_2")], now: at(0))
        _ = try await store.claimEvents(limit: 10, now: at(0), leaseUntil: at(30))
        let result = FanOutResult(
            eventId: "evt_1",
            deliveries: [newDelivery("evt_1", 0), newDelivery("evt_1", 1)],
            suppressions: [
                Suppression(eventId: "evt_1", recipient: "user:u3", channel: nil, reason: "preference:never")
            ]
        )
        try await store.completeFanOut([result], now: at(1))
        // A second fan-out stage whose lease had expired finishes the same event.
        try await store.completeFanOut(
            [result, FanOutResult(eventId: "evt_2", deliveries: [], suppressions: [])],
            now: at(40)
        )
        let record = try unwrap(try await store.eventRecord(id: "evt_1"), "record")
        try expectEqual(record.deliveries.count, 2, "deliveries stored once")
        try expectEqual(record.suppressions.count, 1, "suppressions stored once")
        try expectSameTime(record.deliveries.first?.windowStart, at(1), "the first fan-out's deliveries")
        try expectEqual(try await store.eventRecord(id: "evt_2")?.state, .fannedOut, "an event without deliveries")
        try expectEqual(try await store.status(now: at(40)).deliveries[.pending], 2, "pending")
    }

    static func completeFanOutUnknownEvent(_ store: any Store) async throws {
        _ = try await store.enqueue([newEvent("evt_1")], now: at(0))
        _ = try await store.claimEvents(limit: 10, now: at(0), leaseUntil: at(30))
        let error = try await expectError("fan-out of an unknown event") {
            try await store.completeFanOut(
                [
                    FanOutResult(eventId: "evt_1", deliveries: [newDelivery("evt_1", 0)], suppressions: []),
                    FanOutResult(eventId: "evt_unknown", deliveries: [newDelivery("evt_unknown", 0)], suppressions: []),
                ],
                now: at(1)
            )
        }
        guard case .notFound = error as? StoreError else {
            throw ConformanceFailure("expected StoreError.notFound, got \(error)")
        }
        let record = try unwrap(try await store.eventRecord(id: "evt_1"), "record")
        try expectEqual(record.state, .fanningOut, "evt_1 is not marked fanned out")
        try expectEqual(record.deliveries, [], "no delivery stored")
    }
}
