import Foundation
import HeraldCore

extension StoreConformance {
    static func addressSuppressions(_ store: any Store) async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        try expectEqual(try await store.addressSuppressions(), [], "suppressions of an empty store")
        let version = try await store.directoryVersion()
        let stop = AddressSuppression(channel: .sms, address: "+15550000001", reason: "21610 STOP", createdAt: now)
        try await store.suppressAddress(stop)
        try await store.suppressAddress(
            AddressSuppression(channel: .sms, address: "+15550000001", reason: "later", createdAt: now + 60)
        )
        try await store.suppressAddress(
            AddressSuppression(channel: .email, address: "+15550000001", reason: "bounce", createdAt: now)
        )
        let rows = try await store.addressSuppressions()
        try expectEqual(rows.count, 2, "one suppression per channel and address")
        let sms = rows.first { $0.channel == .sms }
        try expectEqual(sms?.reason, "21610 STOP", "the first reason stays")
        try expectSameTime(sms?.createdAt, now, "suppression time")
        try expect(try await store.directoryVersion() != version, "a suppression bumps the directory version")
    }
}

extension StoreConformance {
    /// An ownerless alert on a large project records thousands of `fallthrough_limit` users; a store may lay
    /// them out as it likes, but must give every one back.
    static func largeSuppressionGroups(_ store: any Store) async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let event = Event(id: "evt_big", key: "issue_alert", organization: "acme", occurredAt: now)
        _ = try await store.enqueue(
            [NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data("{}".utf8))],
            now: now
        )
        _ = try await store.claimEvents(limit: 1, now: now, leaseUntil: now + 60)
        var suppressions = [
            Suppression(eventId: "evt_big", recipient: "user:actor", channel: nil, reason: "actor_excluded")
        ]
        for index in 0..<4_980 {
            suppressions.append(
                Suppression(eventId: "evt_big", recipient: "user:m\(index)", channel: nil, reason: "fallthrough_limit")
            )
        }
        suppressions.append(
            Suppression(eventId: "evt_big", recipient: "user:m9", channel: .sms, reason: "no_address:sms")
        )
        try await store.completeFanOut(
            [FanOutResult(eventId: "evt_big", deliveries: [], suppressions: suppressions)],
            now: now
        )
        let record = try unwrap(try await store.eventRecord(id: "evt_big"), "record")
        try expectEqual(record.suppressions.count, suppressions.count, "suppression count")
        try expectEqual(Set(record.suppressions), Set(suppressions), "suppressions")
        let cut = record.suppressions.filter { $0.reason == "fallthrough_limit" }.map(\.recipient)
        try expectEqual(cut, suppressions.filter { $0.reason == "fallthrough_limit" }.map(\.recipient), "group order")
    }

    static func suppressionCuts(_ store: any Store) async throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var events: [NewEvent] = []
        for id in ["evt_cut", "evt_small_cut"] {
            let event = Event(id: id, key: "issue_alert", organization: "acme", occurredAt: now)
            events.append(NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data(id.utf8)))
        }
        _ = try await store.enqueue(events, now: now)
        _ = try await store.claimEvents(limit: 2, now: now, leaseUntil: now + 60)
        let ranking = (0..<2_000).map { "m\($0)" }
        let other = Suppression(eventId: "evt_cut", recipient: "user:actor", channel: nil, reason: "actor_excluded")
        try await store.completeFanOut(
            [
                FanOutResult(
                    eventId: "evt_cut",
                    deliveries: [],
                    suppressions: [other],
                    cuts: [
                        SuppressionCut(eventId: "evt_cut", userIds: ranking.dropFirst(20), reason: "fallthrough_limit")
                    ]
                ),
                FanOutResult(
                    eventId: "evt_small_cut",
                    deliveries: [],
                    suppressions: [],
                    cuts: [
                        SuppressionCut(
                            eventId: "evt_small_cut",
                            userIds: ranking.prefix(25).dropFirst(20),
                            reason: "fallthrough_limit"
                        )
                    ]
                ),
            ],
            now: now
        )
        let record = try unwrap(try await store.eventRecord(id: "evt_cut"), "record")
        let expected =
            [other]
            + ranking.dropFirst(20).map {
                Suppression(eventId: "evt_cut", recipient: "user:" + $0, channel: nil, reason: "fallthrough_limit")
            }
        try expectEqual(record.suppressions, expected, "a cut comes back member by member, after the others")
        let small = try unwrap(try await store.eventRecord(id: "evt_small_cut"), "small record")
        try expectEqual(
            small.suppressions.map(\.recipient),
            ["user:m20", "user:m21", "user:m22", "user:m23", "user:m24"],
            "a small cut"
        )
    }
}
