import Foundation
import GRDB
import HeraldCore

extension SQLiteStore {
    /// Claims due deliveries (pending or retrying and due, or leased with an expired lease), earliest due first,
    /// leasing them until `leaseUntil` under a fresh lease token (the fence `apply` checks).
    public func claimDeliveries(limit: Int, now: Date, leaseUntil: Date) async throws -> [Delivery] {
        guard limit > 0 else { return [] }
        return try await write("claimDeliveries") { db in
            try Self.claimDeliveries(db, limit: limit, now: now, leaseUntil: leaseUntil)
        }
    }

    /// Applies outcomes to leased deliveries in one transaction, fenced by the lease token: an update whose
    /// delivery is no longer leased with its token (re-claimed after the lease expired, finished already, or
    /// never claimed) changes nothing and is returned.
    ///
    /// The expiry is deliberately not compared: a holder whose lease expired but that nobody re-claimed still
    /// holds the only claim, so its outcome is the truth about a message it did send.
    @discardableResult
    public func apply(_ updates: [DeliveryUpdate], now: Date) async throws -> [DeliveryUpdate] {
        guard !updates.isEmpty else { return [] }
        let nowMillis = now.storeMillis
        return try await write("apply") { db in try Self.apply(updates, nowMillis: nowMillis, db) }
    }

    /// Applies the outcomes (fenced, as `apply`) and claims the next batch (as `claimDeliveries`) in one
    /// transaction: one commit for a round of the send stage.
    public func applyAndClaim(
        _ updates: [DeliveryUpdate],
        claimLimit: Int,
        now: Date,
        leaseUntil: Date
    ) async throws -> (refused: [DeliveryUpdate], claimed: [Delivery]) {
        guard !updates.isEmpty || claimLimit > 0 else { return ([], []) }
        let nowMillis = now.storeMillis
        return try await write("applyAndClaim") { db in
            let refused = try Self.apply(updates, nowMillis: nowMillis, db)
            guard claimLimit > 0 else { return (refused, []) }
            return (refused, try Self.claimDeliveries(db, limit: claimLimit, now: now, leaseUntil: leaseUntil))
        }
    }

    private static func claimDeliveries(_ db: Database, limit: Int, now: Date, leaseUntil: Date) throws -> [Delivery] {
        let nowMillis = now.storeMillis
        let leaseMillis = leaseUntil.storeMillis
        // One token per claim: random, so that processes sharing the file never hand out the same one without
        // coordinating (a collision needs two equal 63-bit draws).
        let lease = Lease(token: Int64.random(in: 1...Int64.max), expiresAt: Date(storeMillis: leaseMillis))
        // The partial index holds only the queue (not the delivered history) and is ordered by due time:
        // the scan stops after `limit` rows.
        let due =
            "FROM deliveries INDEXED BY deliveries_due WHERE \(Self.queued) AND due_at <= ? ORDER BY due_at, id LIMIT ?"
        let select = try db.cachedStatement(sql: "SELECT \(DeliveryRow.columns) \(due)")
        // The same rows as the select (the same selection, in the same transaction of the only writer), leased in
        // one statement instead of one per row.
        let update = try db.cachedStatement(
            sql:
                "UPDATE deliveries SET state = 'leased', due_at = ?, updated_at = ?, lease_token = ? WHERE id IN (SELECT id \(due))"
        )
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(limit)
        let cursor = try Row.fetchCursor(select, arguments: [nowMillis, limit])
        while let row = try cursor.next() {
            var delivery = try DeliveryRow.decode(row)
            delivery.state = .leased
            delivery.dueAt = lease.expiresAt
            delivery.updatedAt = now
            delivery.lease = lease
            deliveries.append(delivery)
        }
        if !deliveries.isEmpty {
            try update.execute(arguments: [leaseMillis, nowMillis, lease.token, nowMillis, limit])
        }
        return deliveries
    }

    private static func apply(_ updates: [DeliveryUpdate], nowMillis: Int64, _ db: Database) throws -> [DeliveryUpdate]
    {
        guard !updates.isEmpty else { return [] }
        let delivered = try db.cachedStatement(
            sql: """
                UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, receipt = ?, updated_at = ?,
                    lease_token = NULL
                WHERE id = ? AND state = 'leased' AND lease_token = ? RETURNING attempts
                """
        )
        let failed = try db.cachedStatement(
            sql: """
                UPDATE deliveries SET state = ?, attempts = attempts + 1, due_at = ?, last_error = ?,
                    last_reason = ?, updated_at = ?, lease_token = NULL
                WHERE id = ? AND state = 'leased' AND lease_token = ? RETURNING attempts
                """
        )
        let deferred = try db.cachedStatement(
            sql: """
                UPDATE deliveries SET state = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END,
                    due_at = ?, updated_at = ?, lease_token = NULL
                WHERE id = ? AND state = 'leased' AND lease_token = ? RETURNING attempts
                """
        )
        let insertAttempt = try db.cachedStatement(
            sql: """
                INSERT INTO attempts (delivery_id, number, started_at, duration, result, reason, status, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        var refused: [DeliveryUpdate] = []
        for update in updates {
            let number: Int?
            let attempt: AttemptRecord
            switch update {
            case .delivered(let id, let lease, let record, let receipt):
                attempt = record
                number = try Int.fetchOne(delivered, arguments: [receipt, nowMillis, id, lease.token])
            case .retry(let id, let lease, let record, let at):
                attempt = record
                number = try Int.fetchOne(
                    failed,
                    arguments: [
                        DeliveryState.retrying.rawValue, at.storeMillis, record.summary, record.reason?.rawValue,
                        nowMillis, id, lease.token,
                    ]
                )
            case .dead(let id, let lease, let record):
                attempt = record
                // A dead letter is never due; `due_at` keeps the time it died, for the record.
                number = try Int.fetchOne(
                    failed,
                    arguments: [
                        DeliveryState.dead.rawValue, nowMillis, record.summary, record.reason?.rawValue,
                        nowMillis, id, lease.token,
                    ]
                )
            case .deferred(let id, let lease, let until):
                let applied = try Int.fetchOne(
                    deferred,
                    arguments: [until.storeMillis, nowMillis, id, lease.token]
                )
                if applied == nil { refused.append(update) }
                continue
            }
            guard let number else {
                refused.append(update)
                continue
            }
            try insertAttempt.execute(arguments: [
                update.id, number, attempt.startedAt.storeMillis, attempt.duration, attempt.result.rawValue,
                attempt.reason?.rawValue, attempt.status, attempt.detail,
            ])
        }
        return refused
    }

    /// The earliest due time among pending, retrying and leased deliveries (a lease's expiry is its due time): one
    /// probe of the queue index, on the calling thread like `hasClaimableEvents`.
    public func nextDeliveryDue() async throws -> Date? {
        try readNow("nextDeliveryDue") { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT due_at FROM deliveries INDEXED BY deliveries_due
                    WHERE \(Self.queued) ORDER BY due_at LIMIT 1
                    """
            )
            return try Int64.fetchOne(statement).map(Date.init(storeMillis:))
        }
    }

    /// Counts by state (every state present, zero when empty) and the oldest due pending or retrying delivery.
    public func status(now: Date) async throws -> StoreStatus {
        try await read("status") { db in
            var events = Dictionary(uniqueKeysWithValues: EventState.allCases.map { ($0, 0) })
            // Only the unfinished events are counted row by row (through the small partial index); the fanned-out
            // history is the total minus those, so a large history costs one scan of the narrowest index.
            let waiting = try Row.fetchAll(
                db,
                sql: """
                    SELECT state, COUNT(*) FROM events INDEXED BY events_due
                    WHERE state IN ('accepted', 'fanningOut') GROUP BY state
                    """
            )
            var unfinished = 0
            for row in waiting {
                let count: Int = try row.decode(atIndex: 1)
                events[try parse(EventState.self, try row.decode(atIndex: 0), column: "event state")] = count
                unfinished += count
            }
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0
            events[.fannedOut] = total - unfinished

            var deliveries = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM deliveries GROUP BY state") {
                let state = try parse(DeliveryState.self, try row.decode(atIndex: 0), column: "delivery state")
                deliveries[state] = try row.decode(atIndex: 1)
            }
            let oldestDue = try Int64.fetchOne(
                db,
                sql: """
                    SELECT due_at FROM deliveries INDEXED BY deliveries_due
                    WHERE \(Self.queued) AND state <> 'leased'
                    ORDER BY due_at LIMIT 1
                    """
            )
            return StoreStatus(
                events: events,
                deliveries: deliveries,
                oldestDue: oldestDue.map(Date.init(storeMillis:))
            )
        }
    }

    /// Deliveries in `state` (all when nil), most recently updated first.
    public func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery] {
        guard limit > 0 else { return [] }
        return try await read("deliveries") { db in
            if let state {
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(DeliveryRow.columns) FROM deliveries WHERE state = ?
                        ORDER BY updated_at DESC, id DESC LIMIT ?
                        """,
                    arguments: [state.rawValue, limit]
                ).map(DeliveryRow.decode)
            }
            return try Row.fetchAll(
                db,
                sql: "SELECT \(DeliveryRow.columns) FROM deliveries ORDER BY updated_at DESC, id DESC LIMIT ?",
                arguments: [limit]
            ).map(DeliveryRow.decode)
        }
    }

    /// One delivery by id; nil when unknown.
    public func delivery(id: Int64) async throws -> Delivery? {
        try await read("delivery") { db in
            try Row.fetchOne(db, sql: "SELECT \(DeliveryRow.columns) FROM deliveries WHERE id = ?", arguments: [id])
                .map(DeliveryRow.decode)
        }
    }

    /// The recorded attempts of a delivery, oldest first (a SQLite addition to `Store`, for `herald explain`).
    public func attempts(deliveryId: Int64) async throws -> [AttemptRecord] {
        try await read("attempts") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT started_at, duration, result, reason, status, detail FROM attempts
                    WHERE delivery_id = ? ORDER BY id
                    """,
                arguments: [deliveryId]
            ).map { row in
                let reason: String? = try row.decode(atIndex: 3)
                return AttemptRecord(
                    startedAt: Date(storeMillis: try row.decode(atIndex: 0)),
                    duration: try row.decode(atIndex: 1),
                    result: try parse(AttemptRecord.Result.self, try row.decode(atIndex: 2), column: "attempt result"),
                    reason: try reason.map { try parse(FailureReason.self, $0, column: "failure reason") },
                    status: try row.decode(atIndex: 4),
                    detail: try row.decode(atIndex: 5)
                )
            }
        }
    }

    /// Puts dead letters back in the queue with a fresh retry window, due now; other ids are left alone.
    public func requeueDead(ids: [Int64]?, now: Date) async throws -> Int {
        let nowMillis = now.storeMillis
        return try await write("requeueDead") { db in
            let requeue = """
                UPDATE deliveries SET state = 'pending', attempts = 0, window_start = ?, due_at = ?, updated_at = ?
                WHERE state = 'dead'
                """
            guard let ids else {
                try db.execute(sql: requeue, arguments: [nowMillis, nowMillis, nowMillis])
                return db.changesCount
            }
            let statement = try db.cachedStatement(sql: requeue + " AND id = ?")
            var count = 0
            for id in Set(ids) {
                try statement.execute(arguments: [nowMillis, nowMillis, nowMillis, id])
                count += db.changesCount
            }
            return count
        }
    }

    /// Deletes delivered and dead deliveries past retention (their attempts go with them), expired idempotency
    /// keys, then fanned-out events older than the delivered retention that have no delivery and no key left.
    ///
    /// An event outlives its deliveries while its idempotency key is remembered, so that a re-submission still
    /// answers with the original id.
    public func prune(now: Date, retention: Retention) async throws -> PruneResult {
        let deliveredCutoff = now.addingTimeInterval(-retention.delivered).storeMillis
        let deadCutoff = now.addingTimeInterval(-retention.dead).storeMillis
        let keyCutoff = now.addingTimeInterval(-retention.idempotency).storeMillis
        return try await write("prune") { db in
            try db.execute(
                sql: "DELETE FROM deliveries WHERE state = 'delivered' AND updated_at < ?",
                arguments: [deliveredCutoff]
            )
            var deliveries = db.changesCount
            try db.execute(
                sql: "DELETE FROM deliveries WHERE state = 'dead' AND updated_at < ?",
                arguments: [deadCutoff]
            )
            deliveries += db.changesCount
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [keyCutoff])
            // A passcode is of no use past its expiry; a day later it no longer counts for the abuse limits either.
            try db.execute(
                sql: "DELETE FROM otp_codes WHERE expires_at < ?",
                arguments: [now.addingTimeInterval(-86400).storeMillis]
            )
            try db.execute(
                sql: """
                    DELETE FROM events
                    WHERE accepted_at < ? AND state = 'fannedOut'
                    AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id)
                    AND NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE idempotency_keys.event_id = events.id)
                    """,
                arguments: [deliveredCutoff]
            )
            return PruneResult(deliveries: deliveries, events: db.changesCount)
        }
    }
}
