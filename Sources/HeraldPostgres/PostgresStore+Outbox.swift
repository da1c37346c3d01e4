import Foundation
import HeraldCore
import Metrics
import PostgresNIO

extension PostgresStore {
    /// Moves up to `limit` outbox rows (SPEC §13 rule 8) into `herald.events`, in one transaction: each is
    /// validated by HeraldCore's intake (the same rules as the API and `herald enqueue`); a valid one becomes an
    /// accepted event (an id or idempotency key seen before makes it a duplicate, dropped), an invalid one a
    /// `rejected` event with its reason, counted in `herald_outbox_rejected_total` and never retried.
    func drainOutbox(limit: Int, now: Date) async throws {
        let logger = self.logger
        let intake = self.intake.withLock { $0 }
        let base = self.base(now)
        let rejected: [(id: String, reason: String)] = try await transaction("claimEvents") { connection in
            let rows = try await connection.query(
                """
                DELETE FROM herald.outbox WHERE seq IN (
                    SELECT seq FROM herald.outbox ORDER BY seq LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING seq, body::text, created_at
                """,
                logger: logger
            )
            var taken: [(seq: Int64, body: String, createdAt: Date)] = []
            for try await (seq, body, createdAt) in rows.decode((Int64, String, Date).self) {
                taken.append((seq, body, createdAt))
            }
            guard !taken.isEmpty else { return [] }
            taken.sort { $0.seq < $1.seq }
            var accepted: [NewEvent] = []
            var refusals: [(event: Event, reason: String, body: Data)] = []
            for row in taken {
                let data = Data(row.body.utf8)
                let value: JSONValue
                do {
                    value = try JSONValue.parse(data)
                } catch {
                    refusals.append(
                        (Self.placeholder(nil, seq: row.seq, at: row.createdAt), "body: not valid JSON", data)
                    )
                    continue
                }
                switch intake.validate(value, rawSize: data.count, path: nil, now: now) {
                case .success(let event): accepted.append(event)
                case .failure(let failure):
                    refusals.append(
                        (Self.placeholder(value, seq: row.seq, at: row.createdAt), "\(failure.code): \(failure)", data)
                    )
                }
            }
            try await Self.storeOutboxEvents(accepted, connection, base: base, logger: logger)
            var stored: [(id: String, reason: String)] = []
            let encoder = EventBody.encoder()
            for refusal in refusals {
                let body = try encoder.encode(refusal.event)
                // An id already taken (a valid event, or a rejected one resubmitted) keeps the first: the
                // placeholder id of the outbox row stands in instead.
                let rows = try await connection.query(
                    """
                    INSERT INTO herald.events (id, state, due_at, accepted_at, key, organization, project, rejection,
                        body, canonical_body)
                    SELECT CASE WHEN EXISTS (SELECT 1 FROM herald.events WHERE id = \(refusal.event.id))
                        THEN \("outbox-\(refusal.event.id)") ELSE \(refusal.event.id) END,
                        'rejected', t.now, t.now, \(refusal.event.key), \(refusal.event.organization), NULL,
                        \(refusal.reason), \(body), \(refusal.body)
                    FROM (SELECT coalesce(\(base)::timestamptz, now()) AS now) t
                    ON CONFLICT (id) DO NOTHING
                    RETURNING id
                    """,
                    logger: logger
                )
                for try await id in rows.decode(String.self) { stored.append((id, refusal.reason)) }
            }
            return stored
        }
        for rejection in rejected {
            Counter(label: "herald_outbox_rejected_total").increment()
            logger.warning(
                "outbox event rejected",
                metadata: ["event.id": "\(rejection.id)", "reason": "\(rejection.reason)"]
            )
        }
    }

    /// Inserts validated outbox events as accepted, skipping any whose idempotency key or id is known already.
    private static func storeOutboxEvents(
        _ events: [NewEvent],
        _ connection: PostgresConnection,
        base: Date?,
        logger: Logger
    ) async throws {
        guard !events.isEmpty else { return }
        let encoder = EventBody.encoder()
        for event in events {
            let body = try encoder.encode(event.event)
            let rows = try await connection.query(
                """
                INSERT INTO herald.events (id, state, due_at, accepted_at, key, organization, project, body,
                    canonical_body)
                SELECT \(event.event.id), 'accepted', t.now, t.now, \(event.event.key), \(event.event.organization),
                    \(event.event.project), \(body), \(event.canonicalBody)
                FROM (SELECT coalesce(\(base)::timestamptz, now()) AS now) t
                WHERE NOT EXISTS (SELECT 1 FROM herald.idempotency_keys WHERE key = \(event.idempotencyKey ?? ""))
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """,
                logger: logger
            )
            var inserted = false
            for try await _ in rows.decode(String.self) { inserted = true }
            if inserted, let key = event.idempotencyKey {
                try await connection.query(
                    """
                    INSERT INTO herald.idempotency_keys (key, event_id, created_at)
                    VALUES (\(key), \(event.event.id), coalesce(\(base)::timestamptz, now()))
                    ON CONFLICT (key) DO NOTHING
                    """,
                    logger: logger
                )
            }
        }
    }

    /// The event a rejected outbox row is recorded as: its id and key when they are usable strings, else a
    /// placeholder id `outbox-<seq>` that `herald explain` can be asked about.
    private static func placeholder(_ value: JSONValue?, seq: Int64, at createdAt: Date) -> Event {
        var id = "outbox-\(seq)"
        var key = ""
        var organization = ""
        if case .object(let members)? = value {
            if case .string(let given)? = members["id"], EventIntake.identifierProblem(given) == nil { id = given }
            if case .string(let given)? = members["key"], given.utf8.count <= 64 { key = given }
            if case .string(let given)? = members["organization"], EventIntake.identifierProblem(given) == nil {
                organization = given
            }
        }
        return Event(id: id, key: key, organization: organization, project: nil, occurredAt: createdAt)
    }
}
