import Metrics
import HeraldCore
import Synchronization

/// The metric handles the stages record into (SPEC §15), created once: every bounded label combination is made
/// up front, so recording a delivery is an array index and an atomic add, never a label lookup or allocation.
///
/// `herald_deliveries_total` counts each delivery once per kind of outcome: `delivered` or `dead` when it
/// settles, and `retry` once when it first needs another attempt (labelled with that failure's reason). Every
/// attempt is in `herald_delivery_attempts_total`, so a delivery that fails twice and then goes through counts
/// one `retry`, one `delivered` and three attempts.
public final class WorkerMetrics: Sendable {
    /// Metric names, as exposed.
    public enum Name {
        public static let events = "herald_events_total"
        public static let deliveries = "herald_deliveries_total"
        public static let attempts = "herald_delivery_attempts_total"
        public static let latency = "herald_delivery_latency_seconds"
        public static let suppressions = "herald_suppressions_total"
        public static let truncations = "herald_truncations_total"
    }

    /// The `reason` label of a delivered delivery.
    public static let noReason = "none"
    /// The `key` label of an event whose key the catalog does not know.
    public static let unknownKey = "unknown"

    private let factory: any MetricsFactory
    private let delivered: [Counter]
    private let retried: [[Counter]]
    private let dead: [[Counter]]
    private let attempts: [Counter]
    private let latency: [Timer]
    private let truncations: [Counter]
    private let suppressions: [String: Counter]
    private let events = Mutex<[String: Counter]>([:])

    /// Makes every handle through `factory` (the composition root passes the Prometheus-backed one).
    public init(factory: any MetricsFactory) {
        self.factory = factory
        let channels = Channel.allCases
        let reasons = FailureReason.allCases
        func outcome(_ name: String, _ channel: Channel, _ reason: String) -> Counter {
            Counter(
                label: Name.deliveries,
                dimensions: [("channel", channel.rawValue), ("outcome", name), ("reason", reason)],
                factory: factory
            )
        }
        delivered = channels.map { outcome("delivered", $0, Self.noReason) }
        retried = channels.map { channel in reasons.map { outcome("retry", channel, $0.rawValue) } }
        dead = channels.map { channel in reasons.map { outcome("dead", channel, $0.rawValue) } }
        attempts = channels.map {
            Counter(label: Name.attempts, dimensions: [("channel", $0.rawValue)], factory: factory)
        }
        latency = channels.map {
            Timer(label: Name.latency, dimensions: [("channel", $0.rawValue)], factory: factory)
        }
        truncations = channels.map {
            Counter(label: Name.truncations, dimensions: [("channel", $0.rawValue)], factory: factory)
        }
        var suppressions: [String: Counter] = [:]
        for reason in SuppressionMetricReason.allCases {
            suppressions[reason.rawValue] = Counter(
                label: Name.suppressions,
                dimensions: [("reason", reason.rawValue)],
                factory: factory
            )
        }
        self.suppressions = suppressions
        // The `unknown` series exists from the start, so a dashboard shows 0 rather than no data.
        events.withLock { $0[Self.unknownKey] = Self.eventCounter(Self.unknownKey, factory) }
    }

    /// A transfer was started.
    func attemptStarted(_ channel: Channel) {
        attempts[channel.metricIndex].increment()
    }

    /// The provider accepted the delivery `seconds` after its event was accepted.
    func delivered(_ channel: Channel, secondsSinceIntake seconds: Double) {
        delivered[channel.metricIndex].increment()
        latency[channel.metricIndex].recordNanoseconds(Int64(max(0, seconds) * 1_000_000_000))
    }

    /// The delivery needs another attempt; counted only on its first failure of the current retry window.
    func retryScheduled(_ channel: Channel, reason: FailureReason, firstFailure: Bool) {
        guard firstFailure else { return }
        retried[channel.metricIndex][reason.metricIndex].increment()
    }

    /// The delivery became a dead letter.
    func deadLettered(_ channel: Channel, reason: FailureReason) {
        dead[channel.metricIndex][reason.metricIndex].increment()
    }

    /// A rendered payload was cut to the channel's limits.
    func truncated(_ channel: Channel) {
        truncations[channel.metricIndex].increment()
    }

    /// Counts one fanned-out batch: events by key (`unknown` for keys outside `catalog`) and suppressions by
    /// reason. Runs of the same reason (a fallthrough cut of thousands) are counted with one add.
    func fannedOut(_ results: [FanOutResult], keys: [String], catalog: Catalog) {
        var byKey: [String: Int] = [:]
        for key in keys {
            byKey[catalog.entry(for: key) == nil ? Self.unknownKey : key, default: 0] += 1
        }
        let counters = events.withLock { counters in
            byKey.map { key, count in
                let counter =
                    counters[key]
                    ?? {
                        let made = Self.eventCounter(key, factory)
                        counters[key] = made
                        return made
                    }()
                return (counter, count)
            }
        }
        for (counter, count) in counters { counter.increment(by: count) }
        for result in results {
            var run: (reason: String, count: Int)?
            for suppression in result.suppressions {
                if let current = run, current.reason == suppression.reason {
                    run = (current.reason, current.count + 1)
                    continue
                }
                if let current = run { countSuppressions(current.reason, current.count) }
                run = (suppression.reason, 1)
            }
            if let current = run { countSuppressions(current.reason, current.count) }
        }
    }

    private func countSuppressions(_ reason: String, _ count: Int) {
        suppressions[SuppressionMetricReason(recorded: reason).rawValue]?.increment(by: count)
    }

    private static func eventCounter(_ key: String, _ factory: any MetricsFactory) -> Counter {
        Counter(label: Name.events, dimensions: [("key", key)], factory: factory)
    }
}

/// The closed set of `reason` labels of `herald_suppressions_total`: the reasons fan-out records, with their
/// parameters (`no_address:sms`, a provider's STOP text, a notifier id) dropped so the label stays bounded.
public enum SuppressionMetricReason: String, CaseIterable, Sendable {
    case preferenceNever = "preference_never"
    case preferenceSubscribeOnly = "preference_subscribe_only"
    case preferenceCommittedOnly = "preference_committed_only"
    case actorExcluded = "actor_excluded"
    case unsubscribed
    case fallthroughLimit = "fallthrough_limit"
    case notProjectMember = "not_project_member"
    case inactiveMember = "inactive_member"
    case notProjectTeam = "not_project_team"
    case unknownRecipient = "unknown_recipient"
    case unknownUser = "unknown_user"
    case unknownTeam = "unknown_team"
    case unknownKey = "unknown_key"
    case noAddress = "no_address"
    case noNotifier = "no_notifier"
    case addressSuppressed = "address_suppressed"
    case renderFailed = "render_failed"
    case other

    /// The label for a reason as fan-out records it (`preference:never`, `no_address:sms`, …).
    public init(recorded reason: String) {
        let head = reason.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch head {
        case "preference":
            switch reason {
            case SuppressionReason.preferenceNever: self = .preferenceNever
            case SuppressionReason.preferenceSubscribeOnly: self = .preferenceSubscribeOnly
            case SuppressionReason.preferenceCommittedOnly: self = .preferenceCommittedOnly
            default: self = .other
            }
        case "no_address": self = .noAddress
        case "no_notifier": self = .noNotifier
        case "address_suppressed": self = .addressSuppressed
        default: self = Self(rawValue: String(head)) ?? .other
        }
    }
}

extension Channel {
    /// The position in `Channel.allCases`, for the handle arrays.
    var metricIndex: Int {
        switch self {
        case .email: 0
        case .slack: 1
        case .msteams: 2
        case .pagerduty: 3
        case .sms: 4
        case .webhook: 5
        }
    }
}

extension FailureReason {
    /// The position in `FailureReason.allCases`, for the handle arrays.
    var metricIndex: Int {
        switch self {
        case .timeout: 0
        case .connection: 1
        case .rateLimited: 2
        case .serverError: 3
        case .clientError: 4
        case .authentication: 5
        case .invalidPayload: 6
        case .configuration: 7
        case .expired: 8
        }
    }
}
