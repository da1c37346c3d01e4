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
