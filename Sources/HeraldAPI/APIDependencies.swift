import Foundation
import HTTPTypes
import HeraldCore
import Logging

/// A configured notifier as the API shows it.
public struct NotifierDescription: Sendable, Hashable, Codable {
    public var id: Int
    public var name: String
    public var channel: Channel

    public init(id: Int, name: String, channel: Channel) {
        self.id = id
        self.name = name
        self.channel = channel
    }
}

/// The health of one notifier (`GET /notifiers`).
public struct NotifierHealth: Sendable, Hashable, Codable {
    /// `ok`, `paused`, `circuitOpen`, `broken` or `notConfigured`.
    public var state: String
    /// Until when a paused or open destination waits.
    public var until: Date?
    /// The last error, already redacted.
    public var lastError: String?
    /// Destinations of this notifier that are not `ok`.
    public var destinations: Int

    public init(state: String, until: Date? = nil, lastError: String? = nil, destinations: Int = 0) {
        self.state = state
        self.until = until
        self.lastError = lastError
        self.destinations = destinations
    }

    public static let ok = NotifierHealth(state: "ok")
}

/// The classified result of a test message (`POST /notifiers/{id}/test`).
public struct NotifierTestResult: Sendable, Hashable, Codable {
    /// `delivered`, `retry` or `permanent`.
    public var outcome: String
    public var reason: String?
    public var status: Int?
    /// The provider's receipt (Slack `ts`, Twilio `sid`, `Message-ID`), when delivered.
    public var receipt: String?
    /// Redacted detail.
    public var detail: String?

    public init(
        outcome: String,
        reason: String? = nil,
        status: Int? = nil,
        receipt: String? = nil,
        detail: String? = nil
    ) {
        self.outcome = outcome
        self.reason = reason
        self.status = status
        self.receipt = receipt
        self.detail = detail
    }
}

/// What `/readyz` reports.
public struct ReadinessReport: Sendable, Hashable, Codable {
    public struct Destination: Sendable, Hashable, Codable {
        public var notifier: Int
        public var destination: String
        public var error: String?

        public init(notifier: Int, destination: String, error: String?) {
            self.notifier = notifier
            self.destination = destination
            self.error = error
        }
    }

    public var ready: Bool
    public var store: Bool
    public var worker: Bool
    public var brokenDestinations: [Destination]
    /// Notifiers that lack a secret or connection and cannot send.
    public var notConfigured: [Int]

    public init(ready: Bool, store: Bool, worker: Bool, brokenDestinations: [Destination], notConfigured: [Int] = []) {
        self.ready = ready
        self.store = store
        self.worker = worker
        self.brokenDestinations = brokenDestinations
        self.notConfigured = notConfigured
    }
}

/// The hooks into the rest of the daemon that the API needs but must not build itself (HeraldApp fills them).
public struct APIOperations: Sendable {
    /// Whether the worker stages run, and the destinations marked broken.
    public var readiness:
        @Sendable () async -> (worker: Bool, broken: [ReadinessReport.Destination], notConfigured: [Int])
    /// The health of each notifier by id.
    public var notifierHealth: @Sendable () async -> [Int: NotifierHealth]
    /// Sends a test message through a notifier to an address, now, and classifies the result.
    public var sendTest: @Sendable (_ notifier: Int, _ to: String) async throws -> NotifierTestResult
    /// The Prometheus text exposition of every metric (filled by the metrics backend).
    public var metricsExposition: @Sendable () -> String
    /// Called after the catalog changed at run time, so fan-out sees the new key at once.
    public var catalogChanged: @Sendable (Catalog) -> Void

    public init(
        readiness:
            @escaping @Sendable () async -> (worker: Bool, broken: [ReadinessReport.Destination], notConfigured: [Int]) =
            { (true, [], []) },
        notifierHealth: @escaping @Sendable () async -> [Int: NotifierHealth] = { [:] },
        sendTest: @escaping @Sendable (_ notifier: Int, _ to: String) async throws -> NotifierTestResult = { _, _ in
            throw APIError(.serviceUnavailable, .storeUnavailable, "test sends are not available")
        },
        metricsExposition: @escaping @Sendable () -> String = { "" },
        catalogChanged: @escaping @Sendable (Catalog) -> Void = { _ in }
    ) {
        self.readiness = readiness
        self.notifierHealth = notifierHealth
        self.sendTest = sendTest
        self.metricsExposition = metricsExposition
        self.catalogChanged = catalogChanged
    }
}

/// Limits of the API (configuration `server` and `auth`).
public struct APILimits: Sendable {
    /// `server.maxBodyBytes` (SPEC §14: 262144).
    public var maxBodyBytes: Int
    /// `auth.preferencesPerMinute` (SPEC §11.1: 60).
    public var preferencesPerMinute: Int
    /// The most events in one `{"events": [...]}` body.
    public var maxEventsPerRequest: Int

    public init(maxBodyBytes: Int = 262_144, preferencesPerMinute: Int = 60, maxEventsPerRequest: Int = 1000) {
        self.maxBodyBytes = maxBodyBytes
        self.preferencesPerMinute = preferencesPerMinute
        self.maxEventsPerRequest = maxEventsPerRequest
    }
}

/// Everything the API's routes use, built by `HeraldApp` (and by tests the same way).
public struct APIDependencies: Sendable {
    public var store: any Store
    public var catalog: RuntimeCatalog
    public var authenticator: APIAuthenticator
    public var clock: any WallClock
    public var limits: APILimits
    public var notifiers: [NotifierDescription]
    public var operations: APIOperations
    public var logger: Logger
    /// Group commit in front of `store.enqueue`.
    public let commitQueue: EventCommitQueue
    public let preferenceLimiter: PreferenceRateLimiter
    /// One-time passcodes (SPEC §11.6); nil when `otp.secretFile` is not configured (the routes answer 503).
    public var otp: OTPService?
    /// Signs and checks the links of Herald's own pages (SPEC §11.7); nil turns the pages off.
    public var linkSigner: LinkSigner?

    public init(
        store: any Store,
        catalog: RuntimeCatalog,
        authenticator: APIAuthenticator,
        clock: any WallClock = SystemWallClock(),
        limits: APILimits = APILimits(),
        notifiers: [NotifierDescription] = [],
        operations: APIOperations = APIOperations(),
        logger: Logger,
        linkSigner: LinkSigner? = nil
    ) {
        self.store = store
        self.catalog = catalog
        self.authenticator = authenticator
        self.clock = clock
        self.limits = limits
        self.notifiers = notifiers
        self.operations = operations
        self.logger = logger
        self.linkSigner = linkSigner
        self.commitQueue = EventCommitQueue(store: store, clock: clock)
        self.preferenceLimiter = PreferenceRateLimiter(limit: limits.preferencesPerMinute, clock: clock)
    }

    /// The intake validator over the current catalog (the same code `herald enqueue` runs).
    public var intake: EventIntake {
        EventIntake(catalog: catalog.current, maxEventBytes: limits.maxBodyBytes, maxBatch: limits.maxEventsPerRequest)
    }

    /// The notifier with `id`.
    public func notifier(_ id: Int) -> NotifierDescription? { notifiers.first { $0.id == id } }
}
