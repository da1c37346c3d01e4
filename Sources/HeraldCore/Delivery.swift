import Foundation

/// Where a delivery state machine stands.
public enum DeliveryState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting for its first attempt.
    case pending
    /// Claimed by a send stage until its lease expires.
    case leased
    /// A retry is scheduled.
    case retrying
    /// Accepted by the provider.
    case delivered
    /// Failed permanently or ran out of attempts: a dead letter.
    case dead
}

/// The rate-limit and pause key of a delivery: a Slack channel, a webhook URL, a routing key, a relay.
public struct Destination: Sendable, Hashable {
    /// The key itself; may be a credential (webhook URL), so it never reaches logs.
    public var key: String
    /// A label safe for logs.
    public var label: String

    public init(key: String, label: String) {
        self.key = key
        self.label = label
    }
}

/// The claim a send stage holds on a delivery: a token unique to one claim, and when the claim expires.
///
/// The token is the fence (SPEC §13): an outcome changes the stored delivery only while it is still leased with
/// the same token. Once a lease expires another worker may claim the delivery again, which gives it a new token
/// and refuses the first holder's late outcome. A holder whose lease expired but that nobody re-claimed may
/// still record its outcome: its token still matches, so no one else can have sent the message.
public struct Lease: Sendable, Hashable {
    /// Unique to one claim (never reused by the same store).
    public var token: Int64
    /// When the delivery becomes claimable again.
    public var expiresAt: Date

    public init(token: Int64, expiresAt: Date) {
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// A delivery produced by fan-out, before it is stored.
public struct NewDelivery: Sendable, Hashable {
    public var eventId: String
    public var channel: Channel
    public var notifierId: Int
    public var recipient: Recipient
    public var reason: DeliveryReason
    /// The rate-limit key (may be secret).
    public var destination: String
    /// The rendered body.
    public var payload: Data
    public var contentType: String
    /// When the message stops being worth sending (a one-time passcode's expiry): a delivery not sent by then
    /// is dropped and recorded as expired, never sent late. Nil for ordinary deliveries.
    public var expiresAt: Date?

    public init(
        eventId: String,
        channel: Channel,
        notifierId: Int,
        recipient: Recipient,
        reason: DeliveryReason,
        destination: String,
        payload: Data,
        contentType: String,
        expiresAt: Date? = nil
    ) {
        self.eventId = eventId
        self.channel = channel
        self.notifierId = notifierId
        self.recipient = recipient
        self.reason = reason
        self.destination = destination
        self.payload = payload
        self.contentType = contentType
        self.expiresAt = expiresAt
    }
}

/// A stored delivery.
public struct Delivery: Sendable, Hashable, Identifiable {
    public var id: Int64
    public var eventId: String
    public var channel: Channel
    public var notifierId: Int
    public var recipient: Recipient
    public var reason: DeliveryReason
    public var destination: String
    public var payload: Data
    public var contentType: String
    public var state: DeliveryState
    /// Attempts made so far.
    public var attempts: Int
    /// When the event was accepted: the start of intake-to-delivery latency.
    public var createdAt: Date
    /// Start of the current retry window (creation, or a dead-letter replay).
    public var windowStart: Date
    /// When the delivery is next due (its lease expiry while leased).
    public var dueAt: Date
    public var lastError: String?
    public var lastReason: FailureReason?
    /// The provider's id for the delivered message.
    public var receipt: String?
    public var updatedAt: Date
    /// The current claim while `state` is `leased`; nil otherwise.
    public var lease: Lease?
    /// When the message stops being worth sending; see `NewDelivery.expiresAt`.
    public var expiresAt: Date?

    public init(
        id: Int64,
        eventId: String,
        channel: Channel,
        notifierId: Int,
        recipient: Recipient,
        reason: DeliveryReason,
        destination: String,
        payload: Data,
        contentType: String,
        state: DeliveryState,
        attempts: Int,
        createdAt: Date,
        windowStart: Date,
        dueAt: Date,
        lastError: String? = nil,
        lastReason: FailureReason? = nil,
        receipt: String? = nil,
        updatedAt: Date,
        lease: Lease? = nil,
        expiresAt: Date? = nil
    ) {
        self.id = id
        self.eventId = eventId
        self.channel = channel
        self.notifierId = notifierId
        self.recipient = recipient
        self.reason = reason
        self.destination = destination
        self.payload = payload
        self.contentType = contentType
        self.state = state
        self.attempts = attempts
        self.createdAt = createdAt
        self.windowStart = windowStart
        self.dueAt = dueAt
        self.lastError = lastError
        self.lastReason = lastReason
        self.receipt = receipt
        self.updatedAt = updatedAt
        self.lease = lease
        self.expiresAt = expiresAt
    }
}

/// A candidate left out of an event's audience, and why (`preference:never`, `actor_excluded`, …).
public struct Suppression: Sendable, Hashable, Codable {
    public var eventId: String
    /// `user:u1`, `team:t1`, or a redacted address.
    public var recipient: String
    /// The channel concerned; nil when the candidate was dropped on every channel.
    public var channel: Channel?
    public var reason: String

    public init(eventId: String, recipient: String, channel: Channel?, reason: String) {
        self.eventId = eventId
        self.recipient = recipient
        self.channel = channel
        self.reason = reason
    }
}

/// One attempt as recorded in the store.
public struct AttemptRecord: Sendable, Hashable {
    public enum Result: String, Sendable, Hashable, Codable {
        case delivered
        case retry
        case permanent
    }

    public var startedAt: Date
    public var duration: TimeInterval
    public var result: Result
    public var reason: FailureReason?
    public var status: Int?
    /// Redacted detail.
    public var detail: String

    public init(
        startedAt: Date,
        duration: TimeInterval,
        result: Result,
        reason: FailureReason? = nil,
        status: Int? = nil,
        detail: String = ""
    ) {
        self.startedAt = startedAt
        self.duration = duration
        self.result = result
        self.reason = reason
        self.status = status
        self.detail = detail
    }
}

/// A state change of a leased delivery, written in batches by the send stage. Each carries the lease it was
/// decided under; the store applies it only while the delivery is still leased with that token.
public enum DeliveryUpdate: Sendable, Hashable {
    /// Delivered, with the provider's receipt.
    case delivered(id: Int64, lease: Lease, attempt: AttemptRecord, receipt: String?)
    /// Failed, retry at the given time.
    case retry(id: Int64, lease: Lease, attempt: AttemptRecord, at: Date)
    /// Failed for good: dead letter.
    case dead(id: Int64, lease: Lease, attempt: AttemptRecord)
    /// Not attempted (waiting for a rate-limit token, a paused destination, shutdown): due again at `until`,
    /// with no attempt counted.
    case deferred(id: Int64, lease: Lease, until: Date)

    /// The delivery concerned.
    public var id: Int64 {
        switch self {
        case .delivered(let id, _, _, _), .retry(let id, _, _, _), .dead(let id, _, _), .deferred(let id, _, _): id
        }
    }

    /// The lease the update was decided under.
    public var lease: Lease {
        switch self {
        case .delivered(_, let lease, _, _), .retry(_, let lease, _, _), .dead(_, let lease, _),
            .deferred(_, let lease, _):
            lease
        }
    }
}
