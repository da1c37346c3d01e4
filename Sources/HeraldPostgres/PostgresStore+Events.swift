import Foundation
import HeraldCore
import PostgresNIO

extension PostgresStore {
    /// Stores the batch in one transaction (SPEC §3.1, §13 rule 6): the idempotency key is a primary key
    /// inserted in the event's own transaction, so two instances taking the same key at once cannot both win.
    /// A known key with an identical canonical body answers `.duplicate`; with a different body, or an event id
    /// already taken, the whole batch is refused with `StoreError.idempotencyConflict`.
    public func enqueue(_ events: [NewEvent], now: Date) async throws -> [EnqueueResult] {
        guard !events.isEmpty else { return [] }
        let encoder = EventBody.encoder()
        let bodies = try events.map { try encoder.encode($0.event) }
        let base = self.base(now)
        let logger = self.logger
        do {
            return try await enqueueOnce(events, bodies: bodies, base: base, logger: logger)
        } catch let error as PostgresStoreError where error.sqlState == "23505" {
            // Another instance stored the same key or id between our check and our insert: its transaction has
            // committed, so a second run sees it and answers duplicate or conflict as if it had come first.
            return try await enqueueOnce(events, bodies: bodies, base: base, logger: logger)
        }
    }

    private func enqueueOnce(
        _ events: [NewEvent],
        bodies: [Data],
        base: Date?,
        logger: Logger
    ) async throws -> [EnqueueResult] {
        try await transaction("enqueue") { connection in
            let keys = Array(Set(events.compactMap(\.idempotencyKey)))
            var known: [String: (eventId: String, canonical: Data)] = [:]
            if !keys.isEmpty {
                let rows = try await connection.query(
                    """
                    SELECT k.key, e.id, e.canonical_body FROM herald.idempotency_keys k
                    JOIN herald.events e ON e.id = k.event_id WHERE k.key = ANY(\(keys))
                    """,
                    logger: logger
                )
                for try await (key, id, canonical) in rows.decode((String, String, Data).self) {
                    known[key] = (id, canonical)
                }
            }
            let ids = events.map(\.event.id)
            var taken = Set<String>()
            let takenRows = try await connection.query(
                "SELECT id FROM herald.events WHERE id = ANY(\(ids))",
                logger: logger
            )
            for try await id in takenRows.decode(String.self) { taken.insert(id) }

            var results: [EnqueueResult] = []
            results.reserveCapacity(events.count)
            var insert: [Int] = []
            for (index, newEvent) in events.enumerated() {
                if let key = newEvent.idempotencyKey, let original = known[key] {
                    guard original.canonical == newEvent.canonicalBody else {
                        throw StoreError.idempotencyConflict(index: index, key: key)
                    }
                    results.append(.duplicate(eventId: original.eventId))
                    continue
                }
                guard taken.insert(newEvent.event.id).inserted else {
                    throw StoreError.idempotencyConflict(index: index, key: newEvent.event.id)
                }
                if let key = newEvent.idempotencyKey {
                    known[key] = (newEvent.event.id, newEvent.canonicalBody)
                }
                insert.append(index)
                results.append(.accepted(eventId: newEvent.event.id))
            }
            guard !insert.isEmpty else { return results }
            let chosen = insert.map { events[$0] }
            let eventIds = chosen.map(\.event.id)
            let eventKeys = chosen.map(\.event.key)
            let organizations = chosen.map(\.event.organization)
            let projects = chosen.map { $0.event.project ?? "" }
            let hasProject = chosen.map { $0.event.project != nil }
            let bodyBuffers = insert.map { ByteBuffer(bytes: bodies[$0]) }
            let canonical = chosen.map { ByteBuffer(bytes: $0.canonicalBody) }
            try await connection.query(
                """
                INSERT INTO herald.events (id, state, due_at, accepted_at, key, organization, project, body, canonical_body)
                SELECT u.id, 'accepted', t.now, t.now, u.key, u.organization,
                    CASE WHEN u.has_project THEN u.project END, u.body, u.canonical
                FROM unnest(\(eventIds)::text[], \(eventKeys)::text[], \(organizations)::text[], \(projects)::text[],
                    \(hasProject)::boolean[], \(bodyBuffers)::bytea[], \(canonical)::bytea[])
                    WITH ORDINALITY AS u(id, key, organization, project, has_project, body, canonical, n),
                    (SELECT coalesce(\(base)::timestamptz, now()) AS now) t
                ORDER BY u.n
                """,
                logger: logger
            )
            let keyed = chosen.filter { $0.idempotencyKey != nil }
            if !keyed.isEmpty {
                let keyValues = keyed.map { $0.idempotencyKey ?? "" }
                let keyEvents = keyed.map(\.event.id)
                try await connection.query(
                    """
                    INSERT INTO herald.idempotency_keys (key, event_id, created_at)
                    SELECT u.key, u.event_id, coalesce(\(base)::timestamptz, now())
                    FROM unnest(\(keyValues)::text[], \(keyEvents)::text[]) AS u(key, event_id)
                    """,
                    logger: logger
                )
            }
            // The hint for fan-out stages, once per transaction (rule 4); delivered at commit.
            try await connection.query("SELECT pg_notify('herald_events', '')", logger: logger)
            return results
        }
    }

    /// Whether an event is accepted and due, its fan-out lease has expired, or the outbox holds one.
    public func hasClaimableEvents(now: Date) async throws -> Bool {
        let base = self.base(now)
        let logger = self.logger
        return try await run("hasClaimableEvents") { connection in
            let rows = try await connection.query(
                """
                SELECT EXISTS (
                    SELECT 1 FROM herald.events WHERE state IN ('accepted', 'fanningOut')
                    AND due_at <= coalesce(\(base)::timestamptz, now())
                ) OR EXISTS (SELECT 1 FROM herald.outbox)
                """,
                logger: logger
            )
            for try await value in rows.decode(Bool.self) { return value }
            return false
        }
    }

    /// Claims due events oldest first in one `FOR UPDATE SKIP LOCKED` statement, leasing them for
    /// `leaseUntil - now` of database time. The same statement says whether the outbox holds rows; only then are
    /// they moved into the events table (validating each, `drainOutbox`) and claimed too, so a claim costs one
    /// round trip when the outbox is empty.
    public func claimEvents(limit: Int, now: Date, leaseUntil: Date) async throws -> [ClaimedEvent] {
        guard limit > 0 else { return [] }
        var (claimed, outboxWaiting) = try await claimStoredEvents(limit: limit, now: now, leaseUntil: leaseUntil)
        if outboxWaiting {
            try await drainOutbox(limit: limit, now: now)
            if claimed.count < limit {
                claimed += try await claimStoredEvents(
                    limit: limit - claimed.count,
                    now: now,
                    leaseUntil: leaseUntil
                ).claimed
            }
        }
        return claimed
    }

    private func claimStoredEvents(
        limit: Int,
        now: Date,
        leaseUntil: Date
    ) async throws -> (claimed: [ClaimedEvent], outboxWaiting: Bool) {
        let base = self.base(now)
        let lease = leaseUntil.timeIntervalSince(now)
        let logger = self.logger
        let (claimed, outboxWaiting): ([(seq: Int64, acceptedAt: Date, body: Data)], Bool) = try await run(
            "claimEvents"
        ) { connection in
            let rows = try await connection.query(
                """
                WITH due AS (
                    SELECT seq FROM herald.events
                    WHERE state IN ('accepted', 'fanningOut') AND due_at <= coalesce(\(base)::timestamptz, now())
                    ORDER BY seq LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                ),
                claimed AS (
                    UPDATE herald.events e
                    SET state = 'fanningOut',
                        due_at = coalesce(\(base)::timestamptz, now()) + make_interval(secs => \(lease)::float8)
                    FROM due WHERE e.seq = due.seq
                    RETURNING e.seq, e.accepted_at, e.body
                )
                SELECT EXISTS (SELECT 1 FROM herald.outbox), c.seq, c.accepted_at, c.body
                FROM (SELECT 1) one LEFT JOIN claimed c ON true
                """,
                logger: logger
            )
            var claimed: [(seq: Int64, acceptedAt: Date, body: Data)] = []
            var outboxWaiting = false
            for try await (waiting, seq, acceptedAt, body) in rows.decode((Bool, Int64?, Date?, Data?).self) {
                outboxWaiting = waiting
                if let seq, let acceptedAt, let body { claimed.append((seq, acceptedAt, body)) }
            }
            return (claimed, outboxWaiting)
        }
        let decoder = EventBody.decoder()
        return (
            try claimed.sorted { $0.seq < $1.seq }.map {
                ClaimedEvent(event: try decoder.decode(Event.self, from: $0.body), acceptedAt: $0.acceptedAt)
            },
            outboxWaiting
        )
    }

    /// Stores every event's deliveries, suppressions and implicit subscription changes and marks it fanned out,
    /// in one transaction; an event fanned out already (by a worker whose lease expired) is skipped. An unknown
    /// event fails the whole batch with `StoreError.notFound`.
    public func completeFanOut(_ results: [FanOutResult], now: Date) async throws {
        guard !results.isEmpty else { return }
        let base = self.base(now)
        let logger = self.logger
        try await transaction("completeFanOut") { connection in
            let ids = results.map(\.eventId)
            var events: [String: (state: String, acceptedAt: Date)] = [:]
            let rows = try await connection.query(
                "SELECT id, state, accepted_at FROM herald.events WHERE id = ANY(\(ids)) FOR UPDATE",
                logger: logger
            )
            for try await (id, state, acceptedAt) in rows.decode((String, String, Date).self) {
                events[id] = (state, acceptedAt)
            }
            var done = Set<String>()
            var batch = DeliveryInsertBatch()
            var suppressions = SuppressionInsertBatch()
            var changes: [SubscriptionChange] = []
            for result in results {
                guard let event = events[result.eventId] else {
                    throw StoreError.notFound("event \(result.eventId)")
                }
                guard event.state != EventState.fannedOut.rawValue, done.insert(result.eventId).inserted else {
                    continue
                }
                for delivery in result.deliveries { batch.append(delivery, acceptedAt: event.acceptedAt) }
                for suppression in result.allSuppressions { suppressions.append(suppression) }
                changes.append(contentsOf: result.subscriptionChanges)
            }
            guard !done.isEmpty else { return }
            if !batch.isEmpty {
                try await batch.insert(connection, base: base, logger: logger)
            }
            if !suppressions.isEmpty {
                try await suppressions.insert(connection, logger: logger)
            }
            try await Self.applySubscriptionChanges(changes, connection, logger: logger)
            let marked = Array(done)
            try await connection.query(
                """
                UPDATE herald.events SET state = 'fannedOut', due_at = coalesce(\(base)::timestamptz, now())
                WHERE id = ANY(\(marked))
                """,
                logger: logger
            )
            if !batch.isEmpty {
                try await connection.query("SELECT pg_notify('herald_deliveries', '')", logger: logger)
            }
        }
    }

    /// The event, its state, its deliveries (in creation order) and its suppressions; nil when unknown.
    public func eventRecord(id: String) async throws -> EventRecord? {
        let logger = self.logger
        let stored: StoredEvent? = try await transaction("eventRecord") { connection in
            try await connection.query("SET TRANSACTION READ ONLY", logger: logger)
            let rows = try await connection.query(
                "SELECT state, accepted_at, body, rejection FROM herald.events WHERE id = \(id)",
                logger: logger
            )
            var event: (String, Date, Data, String?)?
            for try await row in rows.decode((String, Date, Data, String?).self) { event = row }
            guard let event else { return nil }
            let deliveries = try await Self.fetchDeliveries(
                connection,
                "SELECT \(unescaped: DeliveryColumns.list) FROM herald.deliveries WHERE event_id = \(id) ORDER BY id",
                logger: logger
            )
            var suppressions: [Suppression] = []
            let suppressionRows = try await connection.query(
                "SELECT recipient, channel, reason FROM herald.suppressions WHERE event_id = \(id) ORDER BY id",
                logger: logger
            )
            for try await (recipient, channel, reason) in suppressionRows.decode((String, String?, String).self) {
                suppressions.append(
                    Suppression(
                        eventId: id,
                        recipient: recipient,
                        channel: try channel.map { try parse(Channel.self, $0, column: "suppression channel") },
                        reason: reason
                    )
                )
            }
            return StoredEvent(
                state: event.0,
                acceptedAt: event.1,
                body: event.2,
                rejection: event.3,
                deliveries: deliveries,
                suppressions: suppressions
            )
        }
        guard let stored else { return nil }
        return EventRecord(
            event: try EventBody.decoder().decode(Event.self, from: stored.body),
            state: try parse(EventState.self, stored.state, column: "event state"),
            acceptedAt: stored.acceptedAt,
            deliveries: stored.deliveries,
            suppressions: stored.suppressions,
            rejection: stored.rejection
        )
    }
}

/// An `events` row with its deliveries and suppressions, as read in one transaction.
private struct StoredEvent: Sendable {
    var state: String
    var acceptedAt: Date
    var body: Data
    var rejection: String?
    var deliveries: [Delivery]
    var suppressions: [Suppression]
}

/// Suppressions of a fan-out batch as column arrays for one `unnest` insert.
struct SuppressionInsertBatch {
    private var eventIds: [String] = []
    private var recipients: [String] = []
    private var channels: [String] = []
    private var hasChannel: [Bool] = []
    private var reasons: [String] = []

    var isEmpty: Bool { eventIds.isEmpty }

    mutating func append(_ suppression: Suppression) {
        eventIds.append(suppression.eventId)
        recipients.append(suppression.recipient)
        channels.append(suppression.channel?.rawValue ?? "")
        hasChannel.append(suppression.channel != nil)
        reasons.append(suppression.reason)
    }

    func insert(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO herald.suppressions (event_id, recipient, channel, reason)
            SELECT u.event_id, u.recipient, CASE WHEN u.has_channel THEN u.channel END, u.reason
            FROM unnest(\(eventIds)::text[], \(recipients)::text[], \(channels)::text[], \(hasChannel)::boolean[],
                \(reasons)::text[]) WITH ORDINALITY AS u(event_id, recipient, channel, has_channel, reason, n)
            ORDER BY u.n
            """,
            logger: logger
        )
    }
}

/// Deliveries of a fan-out batch as column arrays for one `unnest` insert.
struct DeliveryInsertBatch {
    private var eventIds: [String] = []
    private var channels: [String] = []
    private var notifiers: [Int64] = []
    private var kinds: [String] = []
    private var recipientIds: [String] = []
    private var hasRecipientId: [Bool] = []
    private var addresses: [String] = []
    private var names: [String] = []
    private var hasName: [Bool] = []
    private var reasons: [String] = []
    private var destinations: [String] = []
    private var contentTypes: [String] = []
    private var createdAt: [Date] = []
    private var payloads: [ByteBuffer] = []
    private var expiresAt: [Date] = []
    private var hasExpiry: [Bool] = []

    var isEmpty: Bool { eventIds.isEmpty }

    mutating func append(_ delivery: NewDelivery, acceptedAt: Date) {
        eventIds.append(delivery.eventId)
        channels.append(delivery.channel.rawValue)
        notifiers.append(Int64(delivery.notifierId))
        kinds.append(delivery.recipient.kind.rawValue)
        recipientIds.append(delivery.recipient.id ?? "")
        hasRecipientId.append(delivery.recipient.id != nil)
        addresses.append(delivery.recipient.address)
        names.append(delivery.recipient.name ?? "")
        hasName.append(delivery.recipient.name != nil)
        reasons.append(delivery.reason.rawValue)
        destinations.append(delivery.destination)
        contentTypes.append(delivery.contentType)
        createdAt.append(acceptedAt)
        payloads.append(ByteBuffer(bytes: delivery.payload))
        expiresAt.append(delivery.expiresAt ?? acceptedAt)
        hasExpiry.append(delivery.expiresAt != nil)
    }

    func insert(_ connection: PostgresConnection, base: Date?, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO herald.deliveries (
                event_id, state, due_at, attempts, channel, notifier_id, recipient_kind, recipient_id,
                recipient_address, recipient_name, reason, destination, content_type, created_at, window_start,
                updated_at, payload, expires_at
            )
            SELECT u.event_id, 'pending', t.now, 0, u.channel, u.notifier, u.kind,
                CASE WHEN u.has_id THEN u.recipient_id END, u.address, CASE WHEN u.has_name THEN u.name END,
                u.reason, u.destination, u.content_type, u.created_at, t.now, t.now, u.payload,
                CASE WHEN u.has_expiry THEN u.expires_at END
            FROM unnest(\(eventIds)::text[], \(channels)::text[], \(notifiers)::bigint[], \(kinds)::text[],
                \(recipientIds)::text[], \(hasRecipientId)::boolean[], \(addresses)::text[], \(names)::text[],
                \(hasName)::boolean[], \(reasons)::text[], \(destinations)::text[], \(contentTypes)::text[],
                \(createdAt)::timestamptz[], \(payloads)::bytea[], \(expiresAt)::timestamptz[], \(hasExpiry)::boolean[])
                WITH ORDINALITY AS u(event_id, channel, notifier, kind, recipient_id, has_id, address, name, has_name,
                    reason, destination, content_type, created_at, payload, expires_at, has_expiry, n),
                (SELECT coalesce(\(base)::timestamptz, now()) AS now) t
            ORDER BY u.n
            """,
            logger: logger
        )
    }
}
