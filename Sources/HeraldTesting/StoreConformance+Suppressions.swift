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
}
