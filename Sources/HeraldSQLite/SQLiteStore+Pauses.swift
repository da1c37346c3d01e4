import Foundation
import GRDB
import HeraldCore

extension SQLiteStore {
    /// Records a destination pause (the later time wins).
    public func pauseDestination(_ pause: DestinationPause, now: Date) async throws {
        try await write("pauseDestination") { db in
            try db.execute(
                sql: """
                    INSERT INTO destination_pauses (notifier_id, destination, until) VALUES (?, ?, ?)
                    ON CONFLICT (notifier_id, destination) DO UPDATE SET until = max(until, excluded.until)
                    """,
                arguments: [pause.notifierId, pause.destination, pause.until.storeMillis]
            )
        }
    }

    /// The destinations paused past `now` (a tiny table: one row per paused destination).
    public func destinationPauses(now: Date) async throws -> [DestinationPause] {
        let nowMillis = now.storeMillis
        return try await read("destinationPauses") { db in
            try Row.fetchAll(
                db,
                sql: "SELECT notifier_id, destination, until FROM destination_pauses WHERE until > ?",
                arguments: [nowMillis]
            ).map { row in
                DestinationPause(notifierId: row[0], destination: row[1], until: Date(storeMillis: row[2]))
            }
        }
    }
}
