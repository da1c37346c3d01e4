import HeraldTesting
import Synchronization

/// What the sink saw, recorded on the sink's event-loop thread with as little work as possible.
final class SinkRecorder: Sendable {
    /// The W1 arrivals: a count and the first and last monotonic arrival times.
    struct Burst: Sendable {
        var count = 0
        var first: UInt64 = 0
        var last: UInt64 = 0
    }

    private struct State {
        var burst = Burst()
        var latency: [String: UInt64] = [:]
        var other = 0
    }

    /// Prefix of the latency run's event ids.
    static let latencyPrefix = "lat-"
    private let state: Mutex<State>

    init(expectedLatencyEvents: Int) {
        var initial = State()
        initial.latency.reserveCapacity(max(16, expectedLatencyEvents))
        state = Mutex(initial)
    }

    /// Called by the sink for every request, before it answers.
    func record(_ request: RecordedRequest) {
        let now = monotonicNanos()
        let id = Self.eventID(request)
        state.withLock { state in
            if let id, id.hasPrefix(Self.latencyPrefix) {
                if state.latency[id] == nil { state.latency[id] = now }
            } else if id != nil {
                if state.burst.count == 0 { state.burst.first = now }
                state.burst.count += 1
                state.burst.last = now
            } else {
                state.other += 1
            }
        }
    }

    /// The W1 arrivals so far.
    var burst: Burst { state.withLock { $0.burst } }

    /// Arrival time per latency-run event id.
    var latencyArrivals: [String: UInt64] { state.withLock { $0.latency } }

    /// How many latency-run events arrived.
    var latencyCount: Int { state.withLock { $0.latency.count } }

    /// Requests without an `X-Herald-Event-Id` header.
    var otherCount: Int { state.withLock { $0.other } }

    private static func eventID(_ request: RecordedRequest) -> String? {
        for header in request.headers where header.name.utf8.count == 17 {
            if header.name.lowercased() == "x-herald-event-id" { return header.value }
        }
        return nil
    }
}
