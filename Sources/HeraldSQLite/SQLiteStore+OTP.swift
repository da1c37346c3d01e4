import Foundation
import GRDB
import HeraldCore

extension SQLiteStore {
    /// Checks the destination's limits and stores the passcode, its fanned-out event and its delivery in one
    /// `BEGIN IMMEDIATE` transaction, so two concurrent requests cannot both slip under a limit.
    public func issueOTP(
        _ record: OTPRecord,
        event: NewEvent,
        delivery: NewDelivery,
        limits: OTPIssueLimits,
        now: Date
    ) async throws -> OTPIssueResult {
        let body = String(decoding: EventBody.encode(event.event), as: UTF8.self)
        let nowMillis = now.storeMillis
        let hourAgo = now.addingTimeInterval(-3600).storeMillis
        return try await write("issueOTP") { db in
            let recent = try Int64.fetchAll(
                db,
                sql: """
                    SELECT created_at FROM otp_codes INDEXED BY otp_codes_destination
                    WHERE channel = ? AND destination = ? AND created_at > ? ORDER BY created_at
                    """,
                arguments: [record.channel.rawValue, record.destination, hourAgo]
            ).map { Date(storeMillis: $0) }
            if let latest = recent.last, now.timeIntervalSince(latest) < limits.minInterval {
                return .limited(retryAt: latest.addingTimeInterval(limits.minInterval))
            }
            if recent.count >= limits.perDestinationPerHour {
                // The oldest code of the window leaves it first.
                let index = recent.count - limits.perDestinationPerHour
                return .limited(retryAt: recent[index].addingTimeInterval(3600))
            }
            let e = event.event
            try db.execute(
                sql: """
                    INSERT INTO events (id, state, due_at, accepted_at, key, organization, project, body, canonical_body)
                    VALUES (?, 'fannedOut', ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [e.id, nowMillis, nowMillis, e.key, e.organization, e.project, body, event.canonicalBody]
            )
            try db.execute(
                sql: """
                    INSERT INTO deliveries (
                        event_id, state, due_at, attempts, channel, notifier_id, recipient_kind, recipient_id,
                        recipient_address, recipient_name, reason, destination, content_type, created_at,
                        window_start, updated_at, payload, expires_at
                    ) VALUES (?, 'pending', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    e.id, nowMillis, delivery.channel.rawValue, delivery.notifierId, delivery.recipient.kind.rawValue,
                    delivery.recipient.id, delivery.recipient.address, delivery.recipient.name,
                    delivery.reason.rawValue, delivery.destination, delivery.contentType, nowMillis, nowMillis,
                    nowMillis, delivery.payload, delivery.expiresAt?.storeMillis,
                ]
            )
            let deliveryId = db.lastInsertedRowID
            try db.execute(
                sql: """
                    INSERT INTO otp_codes (
                        id, project_id, channel, destination, code_hash, created_at, expires_at, state,
                        failed_attempts, delivery_id
                    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.id, record.projectId, record.channel.rawValue, record.destination, record.codeHash,
                    record.createdAt.storeMillis, record.expiresAt.storeMillis, record.state.rawValue,
                    record.failedAttempts, deliveryId,
                ]
            )
            return .issued(deliveryId: deliveryId)
        }
    }

    /// One passcode by id.
    public func otp(id: String) async throws -> OTPRecord? {
        try await read("otp") { db in
            try Row.fetchOne(db, sql: "SELECT \(OTPRow.columns) FROM otp_codes WHERE id = ?", arguments: [id])
                .map(OTPRow.decode)
        }
    }

    /// Applies a verification attempt in one write transaction (a second correct attempt finds it verified).
    public func recordOTPAttempt(
        id: String,
        projectId: String,
        matched: Bool,
        maxFailures: Int,
        now: Date
    ) async throws -> OTPAttemptResult {
        try await write("recordOTPAttempt") { db in
            guard
                let record = try Row.fetchOne(
                    db,
                    sql: "SELECT \(OTPRow.columns) FROM otp_codes WHERE id = ? AND project_id = ?",
                    arguments: [id, projectId]
                ).map(OTPRow.decode)
            else { return .notFound }
            let (result, update) = record.attempt(matched: matched, maxFailures: maxFailures, now: now)
            if let update {
                try db.execute(
                    sql: "UPDATE otp_codes SET failed_attempts = ?, state = ? WHERE id = ?",
                    arguments: [update.failedAttempts, update.state.rawValue, id]
                )
            }
            return result
        }
    }
}

/// `otp_codes` rows.
enum OTPRow {
    static let columns =
        "id, project_id, channel, destination, code_hash, created_at, expires_at, state, failed_attempts"

    static func decode(_ row: Row) throws -> OTPRecord {
        OTPRecord(
            id: try row.decode(atIndex: 0),
            projectId: try row.decode(atIndex: 1),
            channel: try parse(Channel.self, try row.decode(atIndex: 2), column: "otp channel"),
            destination: try row.decode(atIndex: 3),
            codeHash: try row.decode(atIndex: 4),
            createdAt: Date(storeMillis: try row.decode(atIndex: 5)),
            expiresAt: Date(storeMillis: try row.decode(atIndex: 6)),
            state: try parse(OTPState.self, try row.decode(atIndex: 7), column: "otp state"),
            failedAttempts: try row.decode(atIndex: 8)
        )
    }
}
