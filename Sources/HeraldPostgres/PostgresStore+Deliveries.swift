import Foundation
import HeraldCore
import PostgresNIO

extension PostgresStore {
    /// Claims up to `limit` due deliveries in one statement (SPEC §13 rule 1), as `applyAndClaim` does with no
    /// outcomes to record.
    public func claimDeliveries(limit: Int, now: Date, leaseUntil: Date) async throws -> [Delivery] {
        guard limit > 0 else { return [] }
        return try await applyAndClaim([], claimLimit: limit, now: now, leaseUntil: leaseUntil).claimed
    }

    /// Applies a batch of outcomes in one statement (SPEC §13 rule 2), as `applyAndClaim` does with nothing to
    /// claim. Updates whose lease was lost change nothing and are returned.
    @discardableResult
    public func apply(_ updates: [DeliveryUpdate], now: Date) async throws -> [DeliveryUpdate] {
        guard !updates.isEmpty else { return [] }
        return try await applyAndClaim(updates, claimLimit: 0, now: now, leaseUntil: now).refused
    }

    /// Takes the rate limits to enforce for every instance on this database (rule 5): from now on claims take
    /// the destinations' tokens from `herald.rate_buckets`.
    public func shareRateLimits(_ limits: [Int: RateLimit]) -> Bool {
        rateLimits.withLock { $0 = limits.filter { !$0.value.isUnlimited } }
        return true
    }

    /// Records a round of outcomes and claims the next batch in one statement, so one round trip and one commit
    /// (the send stage's pump calls this once per round).
    ///
    /// The outcomes (rule 2): `unnest` arrays joined to the rows still leased with each update's token; the
    /// attempts of the rows that changed are inserted by the same statement, and updates whose lease was lost
    /// change nothing and are returned. The expiry is deliberately not compared: a holder whose lease expired but
    /// that nobody re-claimed still holds the only claim, so its outcome is the truth about a message it did send.
    ///
    /// The claim (rules 1, 3, 5): a `FOR UPDATE SKIP LOCKED` scan of the partial index over ready rows in due order
    /// (an expired lease is claimed like a due row, by whichever instance sees it first), skipping destinations
    /// paused for every instance and the rows this round's outcomes changed (a refused outcome's row may be
    /// claimed), feeding an `UPDATE … RETURNING` that leases each row under a fresh token from a sequence.
    /// Deliveries to a rate-limited destination take its tokens from the shared bucket row (`herald.rate_buckets`,
    /// refilled by database time and updated under its row lock, so instances claiming together are serialised on
    /// it): those whose token is there are leased; the others keep their reserved turn (the bucket goes below zero,
    /// as the in-process bucket does) and stay queued, due at that turn and marked as holding it (`rate_token`), so
    /// they take no second token then.
    public func applyAndClaim(
        _ updates: [DeliveryUpdate],
        claimLimit: Int,
        now: Date,
        leaseUntil: Date
    ) async throws -> (refused: [DeliveryUpdate], claimed: [Delivery]) {
        guard !updates.isEmpty || claimLimit > 0 else { return ([], []) }
        // One update per delivery per statement; a second one for the same delivery can only be stale (the first
        // releases the lease), as the embedded store also finds.
        var seen = Set<Int64>()
        var batch = UpdateBatch()
        var first: [Bool] = []
        for update in updates {
            let isFirst = seen.insert(update.id).inserted
            first.append(isFirst)
            if isFirst { batch.append(update, now: now) }
        }
        let limits = claimLimit > 0 ? rateLimits.withLock { $0 } : [:]
        let paced = PacedNotifiers(limits)
        let base = self.base(now)
        let lease = leaseUntil.timeIntervalSince(now)
        let limit = max(0, claimLimit)
        let owner = instanceId
        let logger = self.logger
        let (changed, claimed): (Set<Int64>, [(Delivery, Date)]) = try await run(
            claimLimit > 0 ? "claimDeliveries" : "apply"
        ) { [batch] connection in
            let rows = try await connection.query(
                """
                WITH t AS (SELECT coalesce(\(base)::timestamptz, now()) AS now),
                u AS (
                    SELECT * FROM unnest(\(batch.ids)::bigint[], \(batch.tokens)::bigint[], \(batch.kinds)::text[],
                        \(batch.receipts)::text[], \(batch.hasReceipt)::boolean[], \(batch.dueOffsets)::float8[],
                        \(batch.errors)::text[], \(batch.reasons)::text[], \(batch.hasReason)::boolean[],
                        \(batch.startedAt)::timestamptz[], \(batch.durations)::float8[], \(batch.results)::text[],
                        \(batch.statuses)::bigint[], \(batch.hasStatus)::boolean[], \(batch.details)::text[])
                        AS u(id, token, kind, receipt, has_receipt, due_offset, error, reason, has_reason, started_at,
                            duration, result, status, has_status, detail)
                ),
                changed AS (
                    UPDATE herald.deliveries d SET
                        state = CASE u.kind
                            WHEN 'delivered' THEN 'delivered' WHEN 'retry' THEN 'retrying' WHEN 'dead' THEN 'dead'
                            ELSE CASE WHEN d.attempts > 0 THEN 'retrying' ELSE 'pending' END END,
                        attempts = d.attempts + CASE WHEN u.kind = 'deferred' THEN 0 ELSE 1 END,
                        due_at = CASE WHEN u.kind = 'delivered' THEN d.due_at
                            ELSE t.now + make_interval(secs => u.due_offset) END,
                        receipt = CASE WHEN u.kind = 'delivered' AND u.has_receipt THEN u.receipt ELSE d.receipt END,
                        last_error = CASE WHEN u.kind IN ('retry', 'dead') THEN u.error ELSE d.last_error END,
                        last_reason = CASE WHEN u.kind IN ('retry', 'dead')
                            THEN CASE WHEN u.has_reason THEN u.reason END ELSE d.last_reason END,
                        updated_at = t.now, lease_token = NULL, lease_owner = NULL
                    FROM u, t
                    WHERE d.id = u.id AND d.state = 'leased' AND d.lease_token = u.token
                    RETURNING d.id, d.attempts
                ),
                recorded AS (
                    INSERT INTO herald.attempts (delivery_id, number, started_at, duration, result, reason, status, detail)
                    SELECT c.id, c.attempts, u.started_at, u.duration, u.result,
                        CASE WHEN u.has_reason THEN u.reason END, CASE WHEN u.has_status THEN u.status END, u.detail
                    FROM changed c JOIN u ON u.id = c.id WHERE u.kind <> 'deferred'
                ),
                due AS (
                    SELECT d.id, d.due_at AS was_due, d.notifier_id, d.destination, d.rate_token
                    FROM herald.deliveries d, t
                    WHERE d.state IN ('pending', 'retrying', 'leased') AND d.due_at <= t.now
                    AND d.id NOT IN (SELECT id FROM changed)
                    AND NOT EXISTS (
                        SELECT 1 FROM herald.destination_pauses p
                        WHERE p.notifier_id = d.notifier_id AND p.destination = d.destination AND p.until > t.now
                    )
                    ORDER BY d.due_at, d.id LIMIT \(limit)
                    FOR UPDATE OF d SKIP LOCKED
                ),
                paced AS (
                    SELECT due.id, due.notifier_id, due.destination, l.rate, l.burst,
                        row_number() OVER (PARTITION BY due.notifier_id, due.destination ORDER BY due.was_due, due.id) AS k
                    FROM due
                    JOIN unnest(\(paced.ids)::integer[], \(paced.rates)::float8[], \(paced.bursts)::integer[])
                        AS l(notifier_id, rate, burst) ON l.notifier_id = due.notifier_id
                    WHERE NOT due.rate_token
                ),
                taken AS (
                    INSERT INTO herald.rate_buckets AS b (notifier_id, destination, tokens, per_second, burst, taken,
                        updated_at)
                    SELECT w.notifier_id, w.destination, w.burst - w.n, w.rate, w.burst, w.n, t.now
                    FROM (
                        SELECT notifier_id, destination, max(rate) AS rate, max(burst) AS burst, count(*)::integer AS n
                        FROM paced GROUP BY notifier_id, destination
                    ) w, t
                    ORDER BY w.notifier_id, w.destination
                    ON CONFLICT (notifier_id, destination) DO UPDATE SET
                        tokens = least(excluded.burst::float8, b.tokens
                            + greatest(0, extract(epoch FROM excluded.updated_at - b.updated_at)::float8)
                            * excluded.per_second) - excluded.taken,
                        per_second = excluded.per_second, burst = excluded.burst, taken = excluded.taken,
                        updated_at = greatest(b.updated_at, excluded.updated_at)
                    RETURNING b.notifier_id, b.destination, b.tokens + b.taken AS available
                ),
                turns AS (
                    SELECT p.id, p.k <= k.available AS go,
                        t.now + make_interval(secs => greatest(0, p.k - k.available) / p.rate) AS turn
                    FROM paced p
                    JOIN taken k ON k.notifier_id = p.notifier_id AND k.destination = p.destination
                    CROSS JOIN t
                ),
                claimed AS (
                    UPDATE herald.deliveries d SET
                        state = CASE WHEN coalesce(s.go, true) THEN 'leased'
                            WHEN d.attempts > 0 THEN 'retrying' ELSE 'pending' END,
                        due_at = CASE WHEN coalesce(s.go, true) THEN t.now + make_interval(secs => \(lease)::float8)
                            ELSE s.turn END,
                        updated_at = t.now,
                        lease_token = CASE WHEN coalesce(s.go, true) THEN nextval('herald.lease_tokens') END,
                        lease_owner = CASE WHEN coalesce(s.go, true) THEN \(owner) END,
                        rate_token = NOT coalesce(s.go, true)
                    FROM due LEFT JOIN turns s ON s.id = due.id CROSS JOIN t
                    WHERE d.id = due.id
                    RETURNING \(unescaped: DeliveryColumns.prefixed("d")), due.was_due, coalesce(s.go, true) AS go
                )
                SELECT (SELECT array_agg(id) FROM changed), c.*
                FROM (SELECT 1) one LEFT JOIN (SELECT * FROM claimed WHERE go) c ON true
                """,
                logger: logger
            )
            var changed = Set<Int64>()
            var claimed: [(Delivery, Date)] = []
            for try await row in rows {
                let cells = row.makeRandomAccess()
                if changed.isEmpty, let ids = try cells[0].decode([Int64]?.self, context: .default) {
                    changed = Set(ids)
                }
                // No delivery claimed: one row of NULLs after the changed ids.
                guard try cells[1].decode(Int64?.self, context: .default) != nil else { continue }
                claimed.append(
                    (
                        try DeliveryColumns.decode(row, offset: 1),
                        try cells[1 + DeliveryColumns.count].decode(Date.self, context: .default)
                    )
                )
            }
            return (changed, claimed)
        }
        let refused = updates.indices.filter { !first[$0] || !changed.contains(updates[$0].id) }.map { updates[$0] }
        if !refused.isEmpty {
            logger.debug("outcomes refused by the fence", metadata: ["count": "\(refused.count)"])
        }
        return (refused, claimed.sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }.map(\.0))
    }

    /// The earliest due time among pending, retrying and leased deliveries (a lease's expiry is its due time),
    /// in the caller's clock: database time is shifted by the difference between the two clocks.
    public func nextDeliveryDue() async throws -> Date? {
        let logger = self.logger
        let callerNow = Date()
        let (due, databaseNow): (Date?, Date) = try await run("nextDeliveryDue") { connection in
            let rows = try await connection.query(
                """
                SELECT (SELECT due_at FROM herald.deliveries WHERE state IN ('pending', 'retrying', 'leased')
                    ORDER BY due_at LIMIT 1), now()
                """,
                logger: logger
            )
            for try await row in rows.decode((Date?, Date).self) { return row }
            return (nil, Date())
        }
        guard let due else { return nil }
        if options.timeSource == .caller { return due }
        return callerNow.addingTimeInterval(due.timeIntervalSince(databaseNow))
    }

    /// Counts by state and the oldest due pending or retrying delivery. The delivered and dead history is
    /// counted exactly up to `exactCountLimit` rows and estimated from the planner's statistics past it
    /// (rule 7: no `count(*)` over history on a hot path).
    public func status(now: Date) async throws -> StoreStatus {
        let logger = self.logger
        return try await transaction("status") { connection in
            try await connection.query("SET TRANSACTION READ ONLY", logger: logger)
            var events = Dictionary(uniqueKeysWithValues: EventState.allCases.map { ($0, 0) })
            let waiting = try await connection.query(
                """
                SELECT state, count(*) FROM herald.events WHERE state IN ('accepted', 'fanningOut') GROUP BY state
                UNION ALL
                SELECT 'rejected', count(*) FROM herald.events WHERE state = 'rejected'
                UNION ALL
                SELECT 'fannedOut', count(*) FROM (
                    SELECT 1 FROM herald.events WHERE state = 'fannedOut' LIMIT \(Self.exactCountLimit)) h
                """,
                logger: logger
            )
            for try await (state, count) in waiting.decode((String, Int64).self) {
                events[try parse(EventState.self, state, column: "event state")] = Int(count)
            }
            var deliveries = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) })
            let counts = try await connection.query(
                """
                SELECT state, count(*) FROM herald.deliveries WHERE state IN ('pending', 'retrying', 'leased')
                GROUP BY state
                UNION ALL
                SELECT 'delivered', count(*) FROM (
                    SELECT 1 FROM herald.deliveries WHERE state = 'delivered' LIMIT \(Self.exactCountLimit)) h
                UNION ALL
                SELECT 'dead', count(*) FROM (
                    SELECT 1 FROM herald.deliveries WHERE state = 'dead' LIMIT \(Self.exactCountLimit)) h
                """,
                logger: logger
            )
            for try await (state, count) in counts.decode((String, Int64).self) {
                deliveries[try parse(DeliveryState.self, state, column: "delivery state")] = Int(count)
            }
            if events[.fannedOut] == Self.exactCountLimit || deliveries[.delivered] == Self.exactCountLimit {
                // Past the threshold: the planner's estimate of the table, minus what was counted exactly.
                let estimates = try await connection.query(
                    """
                    SELECT relname, greatest(reltuples, 0)::bigint FROM pg_class
                    WHERE oid IN ('herald.events'::regclass, 'herald.deliveries'::regclass)
                    """,
                    logger: logger
                )
                for try await (table, estimate) in estimates.decode((String, Int64).self) {
                    let estimate = Int(estimate)
                    if table == "events", events[.fannedOut] == Self.exactCountLimit {
                        let others = events.filter { $0.key != .fannedOut }.values.reduce(0, +)
                        events[.fannedOut] = max(Self.exactCountLimit, estimate - others)
                    }
                    if table == "deliveries", deliveries[.delivered] == Self.exactCountLimit {
                        let others = deliveries.filter { $0.key != .delivered }.values.reduce(0, +)
                        deliveries[.delivered] = max(Self.exactCountLimit, estimate - others)
                    }
                }
            }
            let oldest = try await connection.query(
                """
                SELECT due_at FROM herald.deliveries WHERE state IN ('pending', 'retrying', 'leased')
                AND state <> 'leased' ORDER BY due_at LIMIT 1
                """,
                logger: logger
            )
            var oldestDue: Date?
            for try await due in oldest.decode(Date.self) { oldestDue = due }
            return StoreStatus(events: events, deliveries: deliveries, oldestDue: oldestDue)
        }
    }

    /// Past this many rows, history counts in `status` are estimates.
    static let exactCountLimit = 100_000

    /// Deliveries in `state` (all when nil), most recently updated first.
    public func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery] {
        guard limit > 0 else { return [] }
        let logger = self.logger
        return try await run("deliveries") { connection in
            if let state {
                return try await Self.fetchDeliveries(
                    connection,
                    """
                    SELECT \(unescaped: DeliveryColumns.list) FROM herald.deliveries WHERE state = \(state.rawValue)
                    ORDER BY updated_at DESC, id DESC LIMIT \(limit)
                    """,
                    logger: logger
                )
            }
            return try await Self.fetchDeliveries(
                connection,
                """
                SELECT \(unescaped: DeliveryColumns.list) FROM herald.deliveries
                ORDER BY updated_at DESC, id DESC LIMIT \(limit)
                """,
                logger: logger
            )
        }
    }

    /// One delivery by id; nil when unknown.
    public func delivery(id: Int64) async throws -> Delivery? {
        let logger = self.logger
        return try await run("delivery") { connection in
            try await Self.fetchDeliveries(
                connection,
                "SELECT \(unescaped: DeliveryColumns.list) FROM herald.deliveries WHERE id = \(id)",
                logger: logger
            ).first
        }
    }

    /// Puts dead letters back in the queue with a fresh retry window, due now; other ids are left alone.
    public func requeueDead(ids: [Int64]?, now: Date) async throws -> Int {
        let base = self.base(now)
        let logger = self.logger
        let all = ids == nil
        let chosen = Array(Set(ids ?? []))
        return try await transaction("requeueDead") { connection in
            let rows = try await connection.query(
                """
                WITH t AS (SELECT coalesce(\(base)::timestamptz, now()) AS now)
                UPDATE herald.deliveries d SET state = 'pending', attempts = 0, window_start = t.now, due_at = t.now,
                    updated_at = t.now
                FROM t WHERE d.state = 'dead' AND (\(all) OR d.id = ANY(\(chosen)::bigint[]))
                RETURNING d.id
                """,
                logger: logger
            )
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            if count > 0 {
                try await connection.query("SELECT pg_notify('herald_deliveries', '')", logger: logger)
            }
            return count
        }
    }

    /// Deletes delivered and dead deliveries past retention (their attempts go with them), expired idempotency
    /// keys, passcodes a day past their expiry, full rate buckets, then fanned-out or rejected events past the
    /// delivered retention with no delivery and no key left — in bounded batches (rule 7), each its own short transaction, so a large backlog never holds locks long.
    public func prune(now: Date, retention: Retention) async throws -> PruneResult {
        let base = self.base(now)
        let delivered = retention.delivered
        let dead = retention.dead
        let keys = retention.idempotency
        let logger = self.logger
        let batch = Self.pruneBatch
        var result = PruneResult(deliveries: 0, events: 0)
        for (state, age) in [("delivered", delivered), ("dead", dead)] {
            result.deliveries += try await deleteInBatches(
                """
                DELETE FROM herald.deliveries WHERE id IN (
                    SELECT id FROM herald.deliveries WHERE state = \(state)
                    AND updated_at < coalesce(\(base)::timestamptz, now()) - make_interval(secs => \(age)::float8)
                    LIMIT \(batch))
                RETURNING 1
                """
            )
        }
        _ = try await deleteInBatches(
            """
            DELETE FROM herald.idempotency_keys WHERE key IN (
                SELECT key FROM herald.idempotency_keys
                WHERE created_at < coalesce(\(base)::timestamptz, now()) - make_interval(secs => \(keys)::float8)
                LIMIT \(batch))
            RETURNING 1
            """
        )
        // A passcode is of no use past its expiry; a day later it no longer counts for the abuse limits either.
        _ = try await deleteInBatches(
            """
            DELETE FROM herald.otp_codes WHERE id IN (
                SELECT id FROM herald.otp_codes
                WHERE expires_at < coalesce(\(base)::timestamptz, now()) - interval '1 day'
                LIMIT \(batch))
            RETURNING 1
            """
        )
        // A full bucket is the same as none (a new one starts full).
        try await run("prune") { connection in
            try await connection.query(
                """
                DELETE FROM herald.rate_buckets WHERE (notifier_id, destination) IN (
                    SELECT notifier_id, destination FROM herald.rate_buckets
                    WHERE tokens + greatest(0, extract(epoch FROM coalesce(\(base)::timestamptz, now()) - updated_at)::float8)
                        * per_second >= burst
                    LIMIT \(batch))
                """,
                logger: logger
            )
        }
        result.events = try await deleteInBatches(
            """
            DELETE FROM herald.events WHERE seq IN (
                SELECT e.seq FROM herald.events e
                WHERE e.state IN ('fannedOut', 'rejected')
                AND e.accepted_at < coalesce(\(base)::timestamptz, now())
                    - make_interval(secs => \(delivered)::float8)
                AND NOT EXISTS (SELECT 1 FROM herald.deliveries d WHERE d.event_id = e.id)
                AND NOT EXISTS (SELECT 1 FROM herald.idempotency_keys k WHERE k.event_id = e.id)
                LIMIT \(batch))
            RETURNING 1
            """
        )
        return result
    }

    /// Rows one prune statement deletes at most.
    static let pruneBatch = 5_000

    /// Runs a bounded `DELETE … LIMIT pruneBatch … RETURNING 1` again until a round removes fewer than a batch
    /// (retention never holds a long transaction); how many rows went in all.
    private func deleteInBatches(_ query: PostgresQuery) async throws -> Int {
        let logger = self.logger
        var total = 0
        while true {
            let removed = try await run("prune") { connection in
                let rows = try await connection.query(query, logger: logger)
                var count = 0
                for try await _ in rows.decode(Int.self) { count += 1 }
                return count
            }
            total += removed
            if removed < Self.pruneBatch { return total }
        }
    }

    /// Runs a query selecting `DeliveryColumns.list` and decodes the deliveries.
    static func fetchDeliveries(
        _ connection: PostgresConnection,
        _ query: PostgresQuery,
        logger: Logger
    ) async throws -> [Delivery] {
        let rows = try await connection.query(query, logger: logger)
        var deliveries: [Delivery] = []
        for try await row in rows {
            deliveries.append(try DeliveryColumns.decode(row))
        }
        return deliveries
    }
}

/// The `deliveries` columns every read selects, and their decoding.
enum DeliveryColumns {
    static let names = [
        "id", "event_id", "state", "due_at", "attempts", "channel", "notifier_id", "recipient_kind", "recipient_id",
        "recipient_address", "recipient_name", "reason", "destination", "content_type", "created_at",
        "window_start", "updated_at", "last_error", "last_reason", "receipt", "payload", "lease_token", "expires_at",
    ]
    static let count = names.count
    static let list = names.joined(separator: ", ")

    static func prefixed(_ table: String) -> String {
        names.map { "\(table).\($0)" }.joined(separator: ", ")
    }

    /// Decodes the columns of `list`, starting at column `offset` of the row.
    static func decode(_ row: PostgresRow, offset: Int = 0) throws -> Delivery {
        let cells = row.makeRandomAccess()
        func cell<T: PostgresDecodable>(_ index: Int, _ type: T.Type = T.self) throws -> T {
            try cells[offset + index].decode(T.self, context: .default)
        }
        let dueAt: Date = try cell(3)
        let lastReason: String? = try cell(18)
        let token: Int64? = try cell(21)
        let expiresAt: Date? = try cell(22)
        return Delivery(
            id: try cell(0),
            eventId: try cell(1),
            channel: try parse(Channel.self, try cell(5), column: "channel"),
            notifierId: Int(try cell(6, Int32.self)),
            recipient: Recipient(
                kind: try parse(Recipient.Kind.self, try cell(7), column: "recipient kind"),
                id: try cell(8),
                address: try cell(9),
                name: try cell(10)
            ),
            reason: DeliveryReason(try cell(11, String.self)),
            destination: try cell(12),
            payload: try cell(20),
            contentType: try cell(13),
            state: try parse(DeliveryState.self, try cell(2), column: "delivery state"),
            attempts: Int(try cell(4, Int32.self)),
            createdAt: try cell(14),
            windowStart: try cell(15),
            dueAt: dueAt,
            lastError: try cell(17),
            lastReason: try lastReason.map { try parse(FailureReason.self, $0, column: "failure reason") },
            receipt: try cell(19),
            updatedAt: try cell(16),
            lease: token.map { Lease(token: $0, expiresAt: dueAt) },
            expiresAt: expiresAt
        )
    }
}

/// The rate-limited notifiers as column arrays for the claim's `unnest` (burst at least 1, as in-process).
private struct PacedNotifiers: Sendable {
    var ids: [Int32] = []
    var rates: [Double] = []
    var bursts: [Int32] = []

    init(_ limits: [Int: RateLimit]) {
        for (id, limit) in limits.sorted(by: { $0.key < $1.key }) {
            ids.append(Int32(clamping: id))
            rates.append(limit.perSecond)
            bursts.append(Int32(clamping: max(1, limit.burst)))
        }
    }
}

/// Outcomes as column arrays for one `unnest` statement (arrays cannot hold NULL through postgres-nio, so
/// optional columns travel with a `has…` flag).
private struct UpdateBatch: Sendable {
    var ids: [Int64] = []
    var tokens: [Int64] = []
    var kinds: [String] = []
    var receipts: [String] = []
    var hasReceipt: [Bool] = []
    var dueOffsets: [Double] = []
    var errors: [String] = []
    var reasons: [String] = []
    var hasReason: [Bool] = []
    var startedAt: [Date] = []
    var durations: [Double] = []
    var results: [String] = []
    var statuses: [Int64] = []
    var hasStatus: [Bool] = []
    var details: [String] = []

    mutating func append(_ update: DeliveryUpdate, now: Date) {
        ids.append(update.id)
        tokens.append(update.lease.token)
        var attempt: AttemptRecord?
        var receipt: String?
        var due = now
        switch update {
        case .delivered(_, _, let record, let value):
            kinds.append("delivered")
            attempt = record
            receipt = value
        case .retry(_, _, let record, let at):
            kinds.append("retry")
            attempt = record
            due = at
        case .dead(_, _, let record):
            // A dead letter is never due; `due_at` keeps the time it died, for the record.
            kinds.append("dead")
            attempt = record
        case .deferred(_, _, let until):
            kinds.append("deferred")
            due = until
        }
        receipts.append(receipt ?? "")
        hasReceipt.append(receipt != nil)
        dueOffsets.append(due.timeIntervalSince(now))
        errors.append(attempt?.summary ?? "")
        reasons.append(attempt?.reason?.rawValue ?? "")
        hasReason.append(attempt?.reason != nil)
        startedAt.append(attempt?.startedAt ?? now)
        durations.append(attempt?.duration ?? 0)
        results.append(attempt?.result.rawValue ?? "")
        statuses.append(Int64(attempt?.status ?? 0))
        hasStatus.append(attempt?.status != nil)
        details.append(attempt?.detail ?? "")
    }
}
