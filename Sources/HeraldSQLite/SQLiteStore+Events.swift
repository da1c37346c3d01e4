import Foundation
import GRDB
import HeraldCore

extension SQLiteStore {
    /// Stores the batch in one transaction (SPEC §3.1): a known idempotency key with an identical canonical body
    /// answers `.duplicate` with the original id; with a different body the whole batch is refused.
    public func enqueue(_ events: [NewEvent], now: Date) async throws -> [EnqueueResult] {
        guard !events.isEmpty else { return [] }
        // Encode before taking the write lock (the lock is shared with every other writer), on all cores.
        let bodies = EventIntake.concurrentMap(events) { _, newEvent in
            String(decoding: EventBody.encode(newEvent.event), as: UTF8.self)
        }
        let nowMillis = now.storeMillis
        return try await write("enqueue") { db in
            // A key is claimed by inserting it before its event (one statement, no lookup first); only a key that
            // is already taken is looked up. The key names its event before that row exists, so the foreign keys
            // are checked at commit.
            if events.contains(where: { $0.idempotencyKey != nil }) {
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
            }
            let claimKey = try db.cachedStatement(
                sql: "INSERT INTO idempotency_keys (key, event_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
            )
            let findKey = try db.cachedStatement(
                sql: """
                    SELECT events.id, events.canonical_body FROM idempotency_keys
                    JOIN events ON events.id = idempotency_keys.event_id
                    WHERE idempotency_keys.key = ?
                    """
            )
            let insertEvent = try db.cachedStatement(
                sql: """
                    INSERT INTO events (id, state, due_at, accepted_at, key, organization, project, body, canonical_body)
                    VALUES (?, 'accepted', ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            var results: [EnqueueResult] = []
            results.reserveCapacity(events.count)
            for (index, newEvent) in events.enumerated() {
                let event = newEvent.event
                if let key = newEvent.idempotencyKey {
                    try claimKey.execute(arguments: [key, event.id, nowMillis])
                    if db.changesCount == 0 {
                        // Taken, also by an event earlier in this batch: the transaction sees its own inserts.
                        guard let row = try Row.fetchOne(findKey, arguments: [key]),
                            try row.decode(Data.self, atIndex: 1) == newEvent.canonicalBody
                        else {
                            throw StoreError.idempotencyConflict(index: index, key: key)
                        }
                        results.append(.duplicate(eventId: try row.decode(atIndex: 0)))
                        continue
                    }
                }
                do {
                    try insertEvent.execute(arguments: [
                        event.id, nowMillis, nowMillis, event.key, event.organization, event.project, bodies[index],
                        newEvent.canonicalBody,
                    ])
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                    // The event id itself is taken by a different event.
                    throw StoreError.idempotencyConflict(index: index, key: event.id)
                }
                results.append(.accepted(eventId: event.id))
            }
            return results
        }
    }

    /// Whether an event is accepted and due, or its fan-out lease has expired: one probe of a small index, run on
    /// the calling thread (the fan-out loop asks before every claim; a hop to GRDB's queue and back cost two thread
    /// wake-ups each time).
    public func hasClaimableEvents(now: Date) async throws -> Bool {
        let nowMillis = now.storeMillis
        return try readNow("hasClaimableEvents") { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT 1 FROM events INDEXED BY events_due
                    WHERE state IN ('accepted', 'fanningOut') AND due_at <= ? LIMIT 1
                    """
            )
            return try Int.fetchOne(statement, arguments: [nowMillis]) != nil
        }
    }

    /// Claims due events, oldest (first stored) first, leasing them until `leaseUntil`. Storage order, not due time:
    /// events of one issue must be planned in the order they were stored, whatever the clocks said.
    public func claimEvents(limit: Int, now: Date, leaseUntil: Date) async throws -> [ClaimedEvent] {
        guard limit > 0 else { return [] }
        let nowMillis = now.storeMillis
        let leaseMillis = leaseUntil.storeMillis
        let claimed: [(acceptedAt: Int64, body: Data)] = try await write("claimEvents") { db in
            let select = try db.cachedStatement(
                sql: """
                    SELECT seq, accepted_at, body FROM events INDEXED BY events_due
                    WHERE state IN ('accepted', 'fanningOut') AND due_at <= ?
                    ORDER BY seq LIMIT ?
                    """
            )
            let lease = try db.cachedStatement(sql: "UPDATE events SET state = 'fanningOut', due_at = ? WHERE seq = ?")
            var rows: [(seq: Int64, acceptedAt: Int64, body: Data)] = []
            let cursor = try Row.fetchCursor(select, arguments: [nowMillis, limit])
            while let row = try cursor.next() {
                rows.append((try row.decode(atIndex: 0), try row.decode(atIndex: 1), try row.decode(atIndex: 2)))
            }
            for row in rows {
                try lease.execute(arguments: [leaseMillis, row.seq])
            }
            return rows.map { ($0.acceptedAt, $0.body) }
        }
        // Decoded after the commit, off the writer: JSON decoding is the expensive part.
        return try claimed.map {
            ClaimedEvent(
                event: try EventBody.decode($0.body),
                acceptedAt: Date(storeMillis: $0.acceptedAt)
            )
        }
    }

    /// Stores every event's deliveries, suppressions and implicit subscription changes and marks it fanned out,
    /// in one transaction; subscription changes do not bump the directory version.
    ///
    /// An event already fanned out (by a worker whose lease on it had expired) is skipped, so its deliveries
    /// are never stored twice and its subscription changes are not applied again. An unknown event fails the
    /// whole batch with `StoreError.notFound`.
    public func completeFanOut(_ results: [FanOutResult], now: Date) async throws {
        guard !results.isEmpty else { return }
        let nowMillis = now.storeMillis
        try await write("completeFanOut") { db in
            // Marks the event first (one statement): an event another worker fanned out already changes nothing
            // and is told apart from an unknown one only then.
            let markEvent = try db.cachedStatement(
                sql: """
                    UPDATE events SET state = 'fannedOut', due_at = ? WHERE id = ? AND state <> 'fannedOut'
                    RETURNING accepted_at
                    """
            )
            let eventExists = try db.cachedStatement(sql: "SELECT 1 FROM events WHERE id = ?")
            let insertDelivery = try db.cachedStatement(
                sql: """
                    INSERT INTO deliveries (
                        event_id, state, due_at, attempts, channel, notifier_id, recipient_kind, recipient_id,
                        recipient_address, recipient_name, reason, destination, content_type, created_at,
                        window_start, updated_at, payload
                    ) VALUES (?, 'pending', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            // Prepared on first use: many batches record no suppression at all.
            var insertSuppression: Statement?
            for result in results {
                guard let acceptedAt = try Int64.fetchOne(markEvent, arguments: [nowMillis, result.eventId]) else {
                    guard try Int.fetchOne(eventExists, arguments: [result.eventId]) != nil else {
                        throw StoreError.notFound("event \(result.eventId)")
                    }
                    continue
                }
                for delivery in result.deliveries {
                    try insertDelivery.execute(arguments: [
                        result.eventId, nowMillis, delivery.channel.rawValue, delivery.notifierId,
                        delivery.recipient.kind.rawValue, delivery.recipient.id, delivery.recipient.address,
                        delivery.recipient.name, delivery.reason.rawValue, delivery.destination, delivery.contentType,
                        acceptedAt, nowMillis, nowMillis, delivery.payload,
                    ])
                    if let expiresAt = delivery.expiresAt {
                        // Rare (fan-out renders no expiring message today): a second statement keeps the hot insert
                        // as it was.
                        try db.execute(
                            sql: "UPDATE deliveries SET expires_at = ? WHERE id = ?",
                            arguments: [expiresAt.storeMillis, db.lastInsertedRowID]
                        )
                    }
                }
                for row in SuppressionRows.rows(for: result.suppressions) {
                    if insertSuppression == nil {
                        insertSuppression = try db.cachedStatement(
                            sql: """
                                INSERT INTO suppressions (event_id, recipient, channel, reason, grouped)
                                VALUES (?, ?, ?, ?, ?)
                                """
                        )
                    }
                    try insertSuppression?.execute(arguments: [
                        result.eventId, row.recipient, row.channel?.rawValue, row.reason, row.grouped,
                    ])
                }
                for cut in result.cuts where !cut.userIds.isEmpty {
                    if insertSuppression == nil {
                        insertSuppression = try db.cachedStatement(
                            sql: """
                                INSERT INTO suppressions (event_id, recipient, channel, reason, grouped)
                                VALUES (?, ?, ?, ?, ?)
                                """
                        )
                    }
                    for row in SuppressionRows.rows(for: cut) {
                        try insertSuppression?.execute(arguments: [
                            result.eventId, row.recipient, nil, row.reason, row.grouped,
                        ])
                    }
                }
                try Self.applySubscriptionChanges(result.subscriptionChanges, db)
            }
        }
    }

    /// The event, its state, its deliveries (in creation order) and its suppressions; nil when unknown.
    public func eventRecord(id: String) async throws -> EventRecord? {
        let stored: StoredEvent? = try await read("eventRecord") { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT state, accepted_at, body FROM events WHERE id = ?",
                    arguments: [id]
                )
            else { return nil }
            let deliveries = try Row.fetchAll(
                db,
                sql: "SELECT \(DeliveryRow.columns) FROM deliveries WHERE event_id = ? ORDER BY id",
                arguments: [id]
            ).map(DeliveryRow.decode)
            let suppressions = try Row.fetchAll(
                db,
                sql: "SELECT recipient, channel, reason, grouped FROM suppressions WHERE event_id = ? ORDER BY rowid",
                arguments: [id]
            ).flatMap { row -> [Suppression] in
                let name: String? = try row.decode(atIndex: 1)
                let channel = try name.map { try parse(Channel.self, $0, column: "suppression channel") }
                let reason: String = try row.decode(atIndex: 2)
                let recipient: String = try row.decode(atIndex: 0)
                let grouped: Bool = try row.decode(atIndex: 3)
                let recipients = grouped ? try SuppressionRows.members(recipient) : [recipient]
                return recipients.map { Suppression(eventId: id, recipient: $0, channel: channel, reason: reason) }
            }
            return StoredEvent(
                state: try row.decode(atIndex: 0),
                acceptedAt: try row.decode(atIndex: 1),
                body: try row.decode(atIndex: 2),
                deliveries: deliveries,
                suppressions: suppressions
            )
        }
        guard let stored else { return nil }
        return EventRecord(
            event: try EventBody.decode(stored.body),
            state: try parse(EventState.self, stored.state, column: "event state"),
            acceptedAt: Date(storeMillis: stored.acceptedAt),
            deliveries: stored.deliveries,
            suppressions: stored.suppressions
        )
    }
}

/// An `events` row with its deliveries and suppressions, as read in one transaction.
private struct StoredEvent: Sendable {
    var state: String
    var acceptedAt: Int64
    var body: Data
    var deliveries: [Delivery]
    var suppressions: [Suppression]
}
