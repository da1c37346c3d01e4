import Foundation
import GRDB
import HeraldCore

extension Date {
    /// Milliseconds since the Unix epoch, the store's time unit.
    var storeMillis: Int64 {
        Int64((timeIntervalSince1970 * 1000).rounded())
    }

    init(storeMillis: Int64) {
        self.init(timeIntervalSince1970: Double(storeMillis) / 1000)
    }
}

/// The JSON form of `Event` in `events.body` (HeraldCore's `StoredEventBody`, shared with the PostgreSQL store).
typealias EventBody = StoredEventBody

/// Decoding of `deliveries` rows selected with `DeliveryRow.columns`, by column index (the hot path reads
/// thousands of rows per second; name lookups would dominate).
enum DeliveryRow {
    static let columns = """
        id, event_id, state, due_at, attempts, channel, notifier_id, recipient_kind, recipient_id, \
        recipient_address, recipient_name, reason, destination, content_type, created_at, window_start, \
        updated_at, last_error, last_reason, receipt, payload, lease_token, expires_at
        """

    static func decode(_ row: Row) throws -> Delivery {
        let lastReason: String? = try row.decode(atIndex: 18)
        let dueAt = Date(storeMillis: try row.decode(atIndex: 3))
        let leaseToken: Int64? = try row.decode(atIndex: 21)
        let expiresAt: Int64? = try row.decode(atIndex: 22)
        return Delivery(
            id: try row.decode(atIndex: 0),
            eventId: try row.decode(atIndex: 1),
            channel: try parse(Channel.self, try row.decode(atIndex: 5), column: "channel"),
            notifierId: try row.decode(atIndex: 6),
            recipient: Recipient(
                kind: try parse(Recipient.Kind.self, try row.decode(atIndex: 7), column: "recipient kind"),
                id: try row.decode(atIndex: 8),
                address: try row.decode(atIndex: 9),
                name: try row.decode(atIndex: 10)
            ),
            reason: DeliveryReason(try row.decode(String.self, atIndex: 11)),
            destination: try row.decode(atIndex: 12),
            payload: try row.decode(atIndex: 20),
            contentType: try row.decode(atIndex: 13),
            state: try parse(DeliveryState.self, try row.decode(atIndex: 2), column: "delivery state"),
            attempts: try row.decode(atIndex: 4),
            createdAt: Date(storeMillis: try row.decode(atIndex: 14)),
            windowStart: Date(storeMillis: try row.decode(atIndex: 15)),
            dueAt: dueAt,
            lastError: try row.decode(atIndex: 17),
            lastReason: try lastReason.map { try parse(FailureReason.self, $0, column: "failure reason") },
            receipt: try row.decode(atIndex: 19),
            updatedAt: Date(storeMillis: try row.decode(atIndex: 16)),
            lease: leaseToken.map { Lease(token: $0, expiresAt: dueAt) },
            expiresAt: expiresAt.map { Date(storeMillis: $0) }
        )
    }
}

/// Parses a stored enum value.
func parse<Value: RawRepresentable>(
    _ type: Value.Type,
    _ raw: String,
    column: String
) throws -> Value where Value.RawValue == String {
    guard let value = Value(rawValue: raw) else { throw UnrecognisedStoredValue(column: column, value: raw) }
    return value
}

extension AttemptRecord {
    /// One line for `deliveries.last_error`, in the shape of `DeliveryError.summary`
    /// (`rateLimited status=429: ratelimited`).
    var summary: String {
        var text = reason?.rawValue ?? result.rawValue
        if let status { text += " status=\(status)" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}

extension SQLiteStore {
    /// Maps the SQLite conditions a caller can only wait out (locked, disk full, I/O error, read-only) to
    /// `StoreError.unavailable`; the message names the operation and the condition, never event data.
    static func translate(_ error: DatabaseError, operation: String) -> any Error {
        let condition: String
        switch error.resultCode {
        case .SQLITE_BUSY: condition = "database is locked (SQLITE_BUSY)"
        case .SQLITE_LOCKED: condition = "database table is locked (SQLITE_LOCKED)"
        case .SQLITE_FULL: condition = "disk is full (SQLITE_FULL)"
        case .SQLITE_IOERR: condition = "disk I/O error (SQLITE_IOERR)"
        case .SQLITE_READONLY: condition = "database is read-only (SQLITE_READONLY)"
        case .SQLITE_CANTOPEN: condition = "cannot open the database file (SQLITE_CANTOPEN)"
        case .SQLITE_NOMEM: condition = "out of memory (SQLITE_NOMEM)"
        case .SQLITE_PROTOCOL: condition = "file locking protocol error (SQLITE_PROTOCOL)"
        case .SQLITE_PERM, .SQLITE_AUTH: condition = "access denied (SQLITE_PERM)"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: condition = "database file is damaged (SQLITE_CORRUPT)"
        case .SQLITE_NOLFS: condition = "file too large (SQLITE_NOLFS)"
        default: return error
        }
        return StoreError.unavailable("\(operation): \(condition)")
    }
}
