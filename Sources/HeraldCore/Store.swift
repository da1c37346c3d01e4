import Foundation

/// Where an event stands.
public enum EventState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Stored, waiting for fan-out.
    case accepted
    /// Claimed by a fan-out stage until its lease expires.
    case fanningOut
    /// Deliveries created.
    case fannedOut
    /// Refused when claimed: an event written straight into the database (the PostgreSQL outbox) that failed
    /// intake validation. Never fanned out, never retried; `EventRecord.rejection` says why.
    case rejected
}

/// The result of storing one event.
public enum EnqueueResult: Sendable, Hashable {
    /// Newly stored.
    case accepted(eventId: String)
    /// Seen before with an identical body: the original id, nothing stored.
    case duplicate(eventId: String)

    public var eventId: String {
        switch self {
        case .accepted(let id), .duplicate(let id): id
        }
    }
}

/// An event claimed for fan-out.
public struct ClaimedEvent: Sendable, Hashable {
    public var event: Event
    /// When it was accepted.
    public var acceptedAt: Date

    public init(event: Event, acceptedAt: Date) {
        self.event = event
        self.acceptedAt = acceptedAt
    }
}

/// Everything fan-out decided for one event; stored in one transaction with the event marked fanned out.
public struct FanOutResult: Sendable, Hashable {
    public var eventId: String
    public var deliveries: [NewDelivery]
    public var suppressions: [Suppression]
    /// Implicit subscription changes (SPEC §5.3); they do not bump the directory version.
    public var subscriptionChanges: [SubscriptionChange]
    /// Members left out together (the fallthrough cut), compact; recorded after `suppressions`.
    public var cuts: [SuppressionCut]

    public init(
        eventId: String,
        deliveries: [NewDelivery],
        suppressions: [Suppression],
        subscriptionChanges: [SubscriptionChange] = [],
        cuts: [SuppressionCut] = []
    ) {
        self.eventId = eventId
        self.deliveries = deliveries
        self.suppressions = suppressions
        self.subscriptionChanges = subscriptionChanges
        self.cuts = cuts
    }

    /// Every suppression to record: `suppressions`, then the members of each cut (for stores that do not
    /// store a cut compactly).
    public var allSuppressions: [Suppression] { suppressions + cuts.flatMap(\.suppressions) }
}

/// Counts for `herald status` and `/readyz`.
public struct StoreStatus: Sendable, Hashable {
    public var events: [EventState: Int]
    public var deliveries: [DeliveryState: Int]
    /// The due time of the oldest delivery waiting to be sent (pending or retrying).
    public var oldestDue: Date?

    public init(events: [EventState: Int], deliveries: [DeliveryState: Int], oldestDue: Date?) {
        self.events = events
        self.deliveries = deliveries
        self.oldestDue = oldestDue
    }
}

/// An event with everything that became of it, for `herald explain` and `GET /events/{id}`.
public struct EventRecord: Sendable, Hashable {
    public var event: Event
    public var state: EventState
    public var acceptedAt: Date
    public var deliveries: [Delivery]
    public var suppressions: [Suppression]
    /// Why a `rejected` event was refused (`data.rule: must be an object`); nil otherwise.
    public var rejection: String?

    public init(
        event: Event,
        state: EventState,
        acceptedAt: Date,
        deliveries: [Delivery],
        suppressions: [Suppression],
        rejection: String? = nil
    ) {
        self.event = event
        self.state = state
        self.acceptedAt = acceptedAt
        self.deliveries = deliveries
        self.suppressions = suppressions
        self.rejection = rejection
    }
}

/// Retention periods (SPEC §13).
public struct Retention: Sendable, Hashable {
    public var delivered: TimeInterval
    public var dead: TimeInterval
    /// How long idempotency keys are remembered (SPEC §3.1: 7 days).
    public var idempotency: TimeInterval

    public init(
        delivered: TimeInterval = 7 * 86400,
        dead: TimeInterval = 30 * 86400,
        idempotency: TimeInterval = 7 * 86400
    ) {
        self.delivered = delivered
        self.dead = dead
        self.idempotency = idempotency
    }
}

/// What a prune removed.
public struct PruneResult: Sendable, Hashable {
    public var deliveries: Int
    public var events: Int

    public init(deliveries: Int, events: Int) {
        self.deliveries = deliveries
        self.events = events
    }
}

/// An address that must not be messaged on a channel any more (e.g. an SMS recipient who replied STOP).
public struct AddressSuppression: Sendable, Hashable {
    public var channel: Channel
    public var address: String
    /// Why, e.g. `provider:21610`.
    public var reason: String
    public var createdAt: Date

    public init(channel: Channel, address: String, reason: String, createdAt: Date) {
        self.channel = channel
        self.address = address
        self.reason = reason
        self.createdAt = createdAt
    }
}

/// A destination no worker may send to before `until` (a provider's `Retry-After`), shared through the store so that
/// every instance on it pauses (SPEC §10, §13 rule 5).
public struct DestinationPause: Sendable, Hashable {
    public var notifierId: Int
    /// The rate-limit key (may be secret: never logged).
    public var destination: String
    public var until: Date

    public init(notifierId: Int, destination: String, until: Date) {
        self.notifierId = notifierId
        self.destination = destination
        self.until = until
    }
}

/// Errors a store reports to its callers.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An idempotency key was seen with a different body (`events[index]`).
    case idempotencyConflict(index: Int, key: String)
    /// The store cannot take writes now (locked, disk full, I/O error); nothing was applied.
    case unavailable(String)
    /// A record that must exist does not.
    case notFound(String)

    public var description: String {
        switch self {
        case .idempotencyConflict(let index, let key):
            "events[\(index)].id: \"\(key)\" was already used for a different event (IDEMPOTENCY_CONFLICT)"
        case .unavailable(let reason): "store unavailable: \(reason)"
        case .notFound(let what): "not found: \(what)"
        }
    }
}

extension Store {
    public func replacePreferences(
        removing: [PreferenceRowIdentity],
        upserting rows: [PreferenceRow],
        returningRowsOf party: DirectoryParty
    ) async throws -> [PreferenceRow] {
        try await replacePreferences(removing: removing, upserting: rows)
        return try await preferenceRows(of: party)
    }

    /// The default: the store does not pace; the caller keeps its own buckets (one instance per store).
    public func shareRateLimits(_ limits: [Int: RateLimit]) -> Bool { false }

    public func applyAndClaim(
        _ updates: [DeliveryUpdate],
        claimLimit: Int,
        now: Date,
        leaseUntil: Date
    ) async throws -> (refused: [DeliveryUpdate], claimed: [Delivery]) {
        let refused = updates.isEmpty ? [] : try await apply(updates, now: now)
        guard claimLimit > 0 else { return (refused, []) }
        return (refused, try await claimDeliveries(limit: claimLimit, now: now, leaseUntil: leaseUntil))
    }
}

/// Durable storage of events, deliveries and attempts. Every method is atomic: fully applied or not at all.
public protocol Store: Sendable {
    /// Applies pending schema migrations.
    func migrate() async throws

    /// Stores a batch of validated events in one transaction, honouring idempotency keys
    /// (identical body: `.duplicate`; different body: `StoreError.idempotencyConflict`, nothing stored).
    func enqueue(_ events: [NewEvent], now: Date) async throws -> [EnqueueResult]

    /// Whether any event is waiting for fan-out at `now` (cheap; used to poll).
    func hasClaimableEvents(now: Date) async throws -> Bool

    /// Claims up to `limit` accepted events (or events whose fan-out lease expired), oldest first.
    func claimEvents(limit: Int, now: Date, leaseUntil: Date) async throws -> [ClaimedEvent]

    /// Stores the deliveries and suppressions of each event and marks it fanned out, all in one transaction.
    func completeFanOut(_ results: [FanOutResult], now: Date) async throws

    /// Claims up to `limit` deliveries that are due (pending, retry due, or lease expired), earliest first.
    func claimDeliveries(limit: Int, now: Date, leaseUntil: Date) async throws -> [Delivery]

    /// Applies a batch of state changes to leased deliveries, with their attempts, in one transaction.
    ///
    /// Fenced: an update changes its delivery only while the delivery is still leased with the update's lease
    /// token. Others (the lease was lost to a newer claim, or the delivery is finished already) change nothing and
    /// are returned, so the caller can count and log them.
    @discardableResult
    func apply(_ updates: [DeliveryUpdate], now: Date) async throws -> [DeliveryUpdate]

    /// Applies `updates` as `apply` does (fenced; the refused ones are returned), then claims up to `claimLimit`
    /// due deliveries as `claimDeliveries` does, in one transaction where the store can: the send stage records
    /// the outcomes of one round and takes its next batch in a single commit. Either part may be empty. The
    /// default runs the two calls in turn.
    func applyAndClaim(
        _ updates: [DeliveryUpdate],
        claimLimit: Int,
        now: Date,
        leaseUntil: Date
    ) async throws
        -> (refused: [DeliveryUpdate], claimed: [Delivery])

    /// Hands the store the per-destination rate limit of each notifier id (SPEC §10; unlimited ones left out),
    /// again whenever they change. A store several instances share paces their destinations together (§13 rule
    /// 5): its claims take the tokens, so every delivery `claimDeliveries` or `applyAndClaim` returns has its
    /// destination's token already, and one whose turn has not come stays queued until it has. Such a store returns
    /// true and the caller must not pace again; the default returns false (the caller paces in process).
    func shareRateLimits(_ limits: [Int: RateLimit]) -> Bool

    /// The earliest due time of a delivery waiting to be sent, if any.
    func nextDeliveryDue() async throws -> Date?

    /// Counts by state and the oldest due delivery.
    func status(now: Date) async throws -> StoreStatus

    /// Deliveries in `state` (all when nil), most recently updated first.
    func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery]

    /// One delivery by id.
    func delivery(id: Int64) async throws -> Delivery?

    /// Puts dead letters back in the queue, due now with a fresh retry window: the given ids, or all when nil.
    /// Returns how many were requeued; ids that are not dead letters are left alone.
    func requeueDead(ids: [Int64]?, now: Date) async throws -> Int

    /// The event with its deliveries and suppressions.
    func eventRecord(id: String) async throws -> EventRecord?

    /// Removes delivered and dead deliveries past retention, events left without deliveries, and old
    /// idempotency keys.
    func prune(now: Date, retention: Retention) async throws -> PruneResult

    /// Closes the store.
    func close() async throws

    // MARK: Directory

    /// Upserts every record of `document` in one transaction (all or nothing) and bumps the directory version.
    /// Organizations, users, teams (with their member lists) and projects (with teams, ownership, routes and
    /// settings) are replaced by id; subscriptions by (project, issue, subscriber); preference rows by identity.
    func importDirectory(_ document: DirectoryDocument, now: Date) async throws

    /// Every directory record, for building a `DirectorySnapshot`.
    func loadDirectory() async throws -> DirectoryDocument

    /// A number that changes whenever the directory is written other than by fan-out's implicit subscriptions,
    /// so a running fan-out stage knows when to reload its snapshot (also after writes by other processes).
    func directoryVersion() async throws -> Int64

    /// The preference rows owned by `party` (what settings screens read; cheaper than the whole directory).
    func preferenceRows(of party: DirectoryParty) async throws -> [PreferenceRow]

    /// Removes the preference rows with the given identities and upserts `rows`, in one transaction; bumps the
    /// directory version.
    func replacePreferences(removing: [PreferenceRowIdentity], upserting rows: [PreferenceRow]) async throws

    /// `replacePreferences`, then the rows `party` owns as they stand after it, from the same transaction where
    /// the store can (the preferences API answers with the row it wrote; a default runs the two in turn).
    func replacePreferences(
        removing: [PreferenceRowIdentity],
        upserting rows: [PreferenceRow],
        returningRowsOf party: DirectoryParty
    ) async throws -> [PreferenceRow]

    /// Records that an address must not be messaged on its channel any more (idempotent; the first reason
    /// stays); bumps the directory version so fan-out stages pick it up.
    func suppressAddress(_ suppression: AddressSuppression) async throws

    /// Every suppressed address.
    func addressSuppressions() async throws -> [AddressSuppression]

    // MARK: Destination pauses

    /// Records that a destination is paused until `pause.until` for every worker on this store (the later time
    /// wins when it is paused already).
    func pauseDestination(_ pause: DestinationPause, now: Date) async throws

    /// The destinations paused past `now`.
    func destinationPauses(now: Date) async throws -> [DestinationPause]

    // MARK: One-time passcodes (SPEC §11.6)

    /// Within the limits of `record.destination` (codes issued to it in the hour before `now`, the age of the
    /// latest one), stores the passcode, its event (already fanned out; it carries no code) and its rendered
    /// delivery in one transaction. Over a limit nothing is stored and the earliest time another code may be
    /// issued is returned.
    func issueOTP(
        _ record: OTPRecord,
        event: NewEvent,
        delivery: NewDelivery,
        limits: OTPIssueLimits,
        now: Date
    ) async throws -> OTPIssueResult

    /// One passcode by id.
    func otp(id: String) async throws -> OTPRecord?

    /// Applies one verification attempt atomically. `matched` (the caller compared the keyed hashes in constant
    /// time) verifies an active, unexpired passcode of `projectId` once; a wrong code counts, and the passcode
    /// locks at `maxFailures` wrong codes. A used, locked or expired passcode is left as it is.
    func recordOTPAttempt(
        id: String,
        projectId: String,
        matched: Bool,
        maxFailures: Int,
        now: Date
    ) async throws -> OTPAttemptResult

    // MARK: HTTP API

    /// Events newest first, filtered and paged by `query` (cursor = `EventSummary.sequence`).
    func listEvents(_ query: EventListQuery) async throws -> [EventSummary]

    /// Deliveries highest id first, filtered and paged by `query` (cursor = the last id of the previous page).
    func listDeliveries(_ query: DeliveryListQuery) async throws -> [Delivery]

    /// Removes the given records (with what they own, see `DirectoryRecordReference`), then upserts `document`
    /// as `importDirectory` does, in one transaction; bumps the directory version. Unknown references are ignored.
    func updateDirectory(
        removing: [DirectoryRecordReference],
        upserting document: DirectoryDocument,
        now: Date
    )
        async throws

    /// Whether the directory holds the record (cheap: one lookup, for routes that must not write for unknown users).
    func directoryRecordExists(_ reference: DirectoryRecordReference) async throws -> Bool

    /// The catalog keys added at run time (`PUT /api/v1/admin/catalog/{key}`), sorted by key.
    func storedCatalogEntries() async throws -> [CatalogEntry]

    /// Adds or replaces a run-time catalog key (durable before it returns).
    func saveCatalogEntry(_ entry: CatalogEntry) async throws
}
