import Foundation
import HeraldCore
import Logging
import NIOCore
import PostgresNIO

extension PostgresStore {
    /// Checks the destination's limits and stores the passcode, its fanned-out event and its delivery in one
    /// transaction. A transaction-scoped advisory lock on the destination serialises concurrent requests for
    /// it (under READ COMMITTED two could otherwise both slip under a limit); other destinations do not wait.
    public func issueOTP(
        _ record: OTPRecord,
        event: NewEvent,
        delivery: NewDelivery,
        limits: OTPIssueLimits,
        now: Date
    ) async throws -> OTPIssueResult {
        let logger = self.logger
        let body = ByteBuffer(bytes: try EventBody.encoder().encode(event.event))
        let canonical = ByteBuffer(bytes: event.canonicalBody)
        let hourAgo = now.addingTimeInterval(-3600)
        let lockKey = "otp:\(record.channel.rawValue):\(record.destination)"
        return try await transaction("issueOTP") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(lockKey), 0))", logger: logger)
            let rows = try await connection.query(
                """
                SELECT created_at FROM herald.otp_codes
                WHERE channel = \(record.channel.rawValue) AND destination = \(record.destination)
                    AND created_at > \(hourAgo)
                ORDER BY created_at
                """,
                logger: logger
            )
            var recent: [Date] = []
            for try await createdAt in rows.decode(Date.self) { recent.append(createdAt) }
            if let latest = recent.last, now.timeIntervalSince(latest) < limits.minInterval {
                return .limited(retryAt: latest.addingTimeInterval(limits.minInterval))
            }
            if recent.count >= limits.perDestinationPerHour {
                return .limited(retryAt: recent[recent.count - limits.perDestinationPerHour].addingTimeInterval(3600))
            }
            let e = event.event
            try await connection.query(
                """
                INSERT INTO herald.events (id, state, due_at, accepted_at, key, organization, project, body, canonical_body)
                VALUES (\(e.id), 'fannedOut', \(now), \(now), \(e.key), \(e.organization), \(e.project), \(body),
                    \(canonical))
                """,
                logger: logger
            )
            let inserted = try await connection.query(
                """
                INSERT INTO herald.deliveries (
                    event_id, state, due_at, attempts, channel, notifier_id, recipient_kind, recipient_id,
                    recipient_address, recipient_name, reason, destination, content_type, created_at, window_start,
                    updated_at, payload, expires_at
                ) VALUES (
                    \(e.id), 'pending', \(now), 0, \(delivery.channel.rawValue), \(Int32(delivery.notifierId)),
                    \(delivery.recipient.kind.rawValue), \(delivery.recipient.id), \(delivery.recipient.address),
                    \(delivery.recipient.name), \(delivery.reason.rawValue), \(delivery.destination),
                    \(delivery.contentType), \(now), \(now), \(now), \(ByteBuffer(bytes: delivery.payload)),
                    \(delivery.expiresAt)
                ) RETURNING id
                """,
                logger: logger
            )
            var deliveryId: Int64 = 0
            for try await id in inserted.decode(Int64.self) { deliveryId = id }
            try await connection.query(
                """
                INSERT INTO herald.otp_codes (
                    id, project_id, channel, destination, code_hash, created_at, expires_at, state, failed_attempts,
                    delivery_id
                ) VALUES (
                    \(record.id), \(record.projectId), \(record.channel.rawValue), \(record.destination),
                    \(record.codeHash), \(record.createdAt), \(record.expiresAt), \(record.state.rawValue),
                    \(Int32(record.failedAttempts)), \(deliveryId)
                )
                """,
                logger: logger
            )
            return .issued(deliveryId: deliveryId)
        }
    }

    /// One passcode by id.
    public func otp(id: String) async throws -> OTPRecord? {
        let logger = self.logger
        return try await run("otp") { connection in
            try await Self.otpRecord(id: id, projectId: nil, connection, lock: false, logger: logger)
        }
    }

    /// Applies a verification attempt; the row is locked for the transaction, so of two concurrent correct
    /// attempts one verifies and the other finds the passcode used.
    public func recordOTPAttempt(
        id: String,
        projectId: String,
        matched: Bool,
        maxFailures: Int,
        now: Date
    ) async throws -> OTPAttemptResult {
        let logger = self.logger
        return try await transaction("recordOTPAttempt") { connection in
            guard
                let record = try await Self.otpRecord(
                    id: id,
                    projectId: projectId,
                    connection,
                    lock: true,
                    logger: logger
                )
            else { return .notFound }
            let (result, update) = record.attempt(matched: matched, maxFailures: maxFailures, now: now)
            if let update {
                try await connection.query(
                    """
                    UPDATE herald.otp_codes SET failed_attempts = \(Int32(update.failedAttempts)),
                        state = \(update.state.rawValue)
                    WHERE id = \(id)
                    """,
                    logger: logger
                )
            }
            return result
        }
    }

    private static func otpRecord(
        id: String,
        projectId: String?,
        _ connection: PostgresConnection,
        lock: Bool,
        logger: Logger
    ) async throws -> OTPRecord? {
        let rows: PostgresRowSequence
        if lock {
            rows = try await connection.query(
                """
                SELECT id, project_id, channel, destination, code_hash, created_at, expires_at, state, failed_attempts
                FROM herald.otp_codes WHERE id = \(id) AND project_id = \(projectId ?? "") FOR UPDATE
                """,
                logger: logger
            )
        } else {
            rows = try await connection.query(
                """
                SELECT id, project_id, channel, destination, code_hash, created_at, expires_at, state, failed_attempts
                FROM herald.otp_codes WHERE id = \(id)
                """,
                logger: logger
            )
        }
        // Drained whole (at most one row): a sequence left half-read would hold the connection.
        var found: OTPRecord?
        for try await row in rows where found == nil {
            let cells = row.makeRandomAccess()
            func cell<T: PostgresDecodable>(_ index: Int, _ type: T.Type = T.self) throws -> T {
                try cells[index].decode(T.self, context: .default)
            }
            found = OTPRecord(
                id: try cell(0),
                projectId: try cell(1),
                channel: try parse(Channel.self, try cell(2), column: "otp channel"),
                destination: try cell(3),
                codeHash: try cell(4),
                createdAt: try cell(5),
                expiresAt: try cell(6),
                state: try parse(OTPState.self, try cell(7), column: "otp state"),
                failedAttempts: Int(try cell(8, Int32.self))
            )
        }
        return found
    }
}
