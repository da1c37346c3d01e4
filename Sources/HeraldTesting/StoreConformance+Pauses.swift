import Foundation
import HeraldCore

extension StoreConformance {
    static func destinationPauses(_ store: any Store) async throws {
        try expectEqual(try await store.destinationPauses(now: at(0)), [], "no pause in an empty store")
        let slack = DestinationPause(notifierId: 2, destination: "C0123", until: at(30))
        try await store.pauseDestination(slack, now: at(1))
        try await store.pauseDestination(
            DestinationPause(notifierId: 6, destination: "https://x/h", until: at(5)),
            now: at(1)
        )
        // An earlier end does not shorten a pause; a later one extends it.
        try await store.pauseDestination(
            DestinationPause(notifierId: 2, destination: "C0123", until: at(10)),
            now: at(2)
        )
        var pauses = try await store.destinationPauses(now: at(3)).sorted { $0.notifierId < $1.notifierId }
        try expectEqual(pauses.map(\.notifierId), [2, 6], "both destinations are paused")
        try expectSameTime(pauses.first?.until, at(30), "the later end stays")
        try expectEqual(pauses.first?.destination, "C0123", "destination")
        try expectEqual(
            try await store.destinationPauses(now: at(5)).map(\.notifierId),
            [2],
            "a pause ends at its time"
        )
        try await store.pauseDestination(
            DestinationPause(notifierId: 2, destination: "C0123", until: at(60)),
            now: at(6)
        )
        pauses = try await store.destinationPauses(now: at(31))
        try expectSameTime(pauses.first?.until, at(60), "extended")
        try expectEqual(try await store.destinationPauses(now: at(60)), [], "over")
    }
}
