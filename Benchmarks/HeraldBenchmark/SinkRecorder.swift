import HeraldTesting
import Synchronization

/// What the sinks saw, recorded on the sinks' event-loop threads with as little work as possible.
///
/// HTTP requests are grouped by the prefix of their `X-Herald-Event-Id` (`w1-17` → `w1`, `w5warm-1` → `w5warm`)
/// and split by channel (from the request path); the latency run's events (`lat-…`) keep one arrival time per
/// id. The SMTP sink cannot tell the event id at the final `.` of a message, so mail is one global counter; the
/// workloads take snapshots of it around their phases and check the event ids in the stored messages afterwards.
final class SinkRecorder: Sendable {
    /// The channel a request belongs to, decided from its path (email is counted by the SMTP sink).
    enum Channel: Int, CaseIterable, Sendable {
        case email
        case slack
        case msteams
        case pagerduty
        case sms
        case other

        /// The name used in the summary.
        var name: String {
            switch self {
            case .email: "email"
            case .slack: "slack"
            case .msteams: "msteams"
            case .pagerduty: "pagerduty"
            case .sms: "sms"
            case .other: "other"
            }
        }

        /// The channel of an HTTP request path on the benchmark sink.
        init(path: String) {
            if path.hasSuffix("/chat.postMessage") {
                self = .slack
            } else if path.hasPrefix("/teams/") {
                self = .msteams
            } else if path.hasPrefix("/v2/enqueue") {
                self = .pagerduty
            } else if path.hasPrefix("/2010-04-01/") {
                self = .sms
            } else {
                self = .other
            }
        }
    }

    /// Arrivals of one group: a count, the first and last monotonic arrival times and counts per channel.
    struct Arrivals: Sendable {
        var count = 0
        var first: UInt64 = 0
        var last: UInt64 = 0
        var perChannel = [Int](repeating: 0, count: Channel.allCases.count)

        mutating func add(_ channel: Channel, at now: UInt64) {
            if count == 0 { first = now }
            count += 1
            last = now
            perChannel[channel.rawValue] += 1
        }

        /// The arrivals of `channel`.
        subscript(channel: Channel) -> Int { perChannel[channel.rawValue] }
    }

    private struct State {
        var groups: [String: Arrivals] = [:]
        var mail: [UInt64] = []
        var latency: [String: UInt64] = [:]
        var ceilingLatency: [String: UInt64] = [:]
        var other = 0
        /// The first request of each group named in `sampledGroups`, whole (headers and body).
        var samples: [String: RecordedRequest] = [:]
    }

    /// Groups whose first request is kept whole, as the template of the bare curl ceiling.
    static let sampledGroups: Set<String> = ["w1cap"]

    /// Prefix of the latency run's event ids.
    static let latencyPrefix = "lat-"
    /// Prefix of the bare transport's latency yardstick requests.
    static let latencyCeilingPrefix = "latceil-"
    private let state: Mutex<State>

    init(expectedLatencyEvents: Int) {
        var initial = State()
        initial.latency.reserveCapacity(max(16, expectedLatencyEvents))
        initial.mail.reserveCapacity(65_536)
        state = Mutex(initial)
    }

    /// Called by the HTTP sink for every request, before it answers.
    func record(_ request: RecordedRequest) {
        let now = monotonicNanos()
        let id = Self.eventID(request)
        guard let id else {
            state.withLock { $0.other += 1 }
            return
        }
        if id.hasPrefix(Self.latencyPrefix) {
            state.withLock { state in
                if state.latency[id] == nil { state.latency[id] = now }
            }
            return
        }
        if id.hasPrefix(Self.latencyCeilingPrefix) {
            state.withLock { state in
                if state.ceilingLatency[id] == nil { state.ceilingLatency[id] = now }
            }
            return
        }
        let group = Self.group(of: id)
        let channel = Channel(path: request.path)
        let sampled = Self.sampledGroups.contains(group)
        state.withLock { state in
            state.groups[group, default: Arrivals()].add(channel, at: now)
            if sampled && state.samples[group] == nil { state.samples[group] = request }
        }
    }

    /// The first request of a sampled group, if it arrived.
    func sample(_ group: String) -> RecordedRequest? {
        state.withLock { $0.samples[group] }
    }

    /// Forgets the arrivals of `group` (the ceiling's, so a later run of it counts afresh).
    func resetGroup(_ group: String) {
        state.withLock { _ = $0.groups.removeValue(forKey: group) }
    }

    /// Called by the SMTP sink when a message's final `.` arrives.
    func recordMail() {
        let now = monotonicNanos()
        state.withLock { $0.mail.append(now) }
    }

    /// The HTTP arrivals of the events whose ids start with `group` and a dash.
    func arrivals(_ group: String) -> Arrivals {
        state.withLock { $0.groups[group] ?? Arrivals() }
    }

    /// How many messages the SMTP sink accepted so far.
    var mailCount: Int { state.withLock { $0.mail.count } }

    /// The messages the SMTP sink accepted after the first `skip` ones.
    func mail(after skip: Int) -> Arrivals {
        state.withLock { state in
            var arrivals = Arrivals()
            guard skip >= 0, skip < state.mail.count, let last = state.mail.last else { return arrivals }
            arrivals.count = state.mail.count - skip
            arrivals.first = state.mail[skip]
            arrivals.last = last
            arrivals.perChannel[Channel.email.rawValue] = arrivals.count
            return arrivals
        }
    }

    /// Arrival time per latency-run event id.
    var latencyArrivals: [String: UInt64] { state.withLock { $0.latency } }

    /// When each of the bare transport's latency requests arrived, by event id.
    var ceilingLatencyArrivals: [String: UInt64] { state.withLock { $0.ceilingLatency } }

    /// How many latency-run events arrived.
    var latencyCount: Int { state.withLock { $0.latency.count } }

    /// Requests without an `X-Herald-Event-Id` header.
    var otherCount: Int { state.withLock { $0.other } }

    /// The group of an event id: the text before its first dash.
    static func group(of id: String) -> String {
        guard let dash = id.utf8.firstIndex(of: UInt8(ascii: "-")) else { return id }
        return String(id[..<dash])
    }

    private static func eventID(_ request: RecordedRequest) -> String? {
        for header in request.headers where header.name.utf8.count == 17 {
            if header.name.lowercased() == "x-herald-event-id" { return header.value }
        }
        return nil
    }
}
