import Foundation
import HeraldTesting
import Synchronization

/// Event ids seen by a sink, in arrival order (thread-safe: the fake server calls handlers on its own thread).
final class EventLedger: Sendable {
    private let ids = Mutex<[String]>([])

    /// Records one id and returns how many were recorded so far.
    @discardableResult
    func record(_ id: String) -> Int {
        ids.withLock { ids in
            ids.append(id)
            return ids.count
        }
    }

    var all: [String] { ids.withLock { $0 } }
    var distinct: Set<String> { Set(all) }
    var distinctCount: Int { ids.withLock { Set($0).count } }
}

/// Sends SIGKILL to a process from the fake server's thread, once.
final class KillSwitch: Sendable {
    private let pid = Atomic<Int32>(0)
    private let fired = Atomic<Bool>(false)

    func arm(pid: Int32) { self.pid.store(pid, ordering: .sequentiallyConsistent) }

    /// Kills the armed process (or sends it `signal`); returns false when it was not armed yet.
    @discardableResult
    func fire(_ signal: Int32 = SIGKILL) -> Bool {
        let target = pid.load(ordering: .sequentiallyConsistent)
        guard target > 0 else { return false }
        if fired.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged {
            sendSignal(target, signal)
        }
        return true
    }

    var hasFired: Bool { fired.load(ordering: .sequentiallyConsistent) }
}

/// A switchable answer (e.g. 400 first, then 200).
final class ResponseSwitch: Sendable {
    private let current: Mutex<FakeResponse>

    init(_ initial: FakeResponse) { current = Mutex(initial) }

    func set(_ response: FakeResponse) { current.withLock { $0 = response } }
    var response: FakeResponse { current.withLock { $0 } }
}

/// A webhook sink with SPEC §17's fault mix, decided by each destination's request index: of every 20 requests
/// to a path, 4 get `500`, 2 get `429 Retry-After: 2`, 1 is reset, 13 get `200`. Failures are spread so no
/// destination sees two in a row, and no delivery is failed more than `maxFailuresPerDelivery` times, so the run
/// stays bounded despite the daemon's fixed backoff (base 1 s, full jitter).
final class FaultySink: Sendable {
    enum Fault: String, CaseIterable {
        case none, serverError, tooManyRequests, reset
    }

    struct State {
        var nextIndex: [String: Int] = [:]
        var failuresByDelivery: [String: Int] = [:]
        /// Per path, when each 429 was answered (server side).
        var tooManySentAt: [String: [Date]] = [:]
        /// Event ids answered 200.
        var delivered: Set<String> = []
        var counts: [Fault: Int] = [:]
    }

    let retryAfterSeconds = 2
    let maxFailuresPerDelivery = 3
    private let state = Mutex(State())

    func respond(_ request: RecordedRequest) -> FakeResponse {
        let delivery = request.header("X-Herald-Delivery-Id") ?? "?"
        let event = request.header("X-Herald-Event-Id") ?? "?"
        return state.withLock { state in
            let index = state.nextIndex[request.path, default: 0]
            state.nextIndex[request.path] = index + 1
            var fault: Fault =
                switch index % 20 {
                case 1, 5, 9, 13: .serverError
                case 3, 11: .tooManyRequests
                case 17: .reset
                default: .none
                }
            if fault != .none {
                if state.failuresByDelivery[delivery, default: 0] >= maxFailuresPerDelivery {
                    fault = .none
                } else {
                    state.failuresByDelivery[delivery, default: 0] += 1
                }
            }
            state.counts[fault, default: 0] += 1
            switch fault {
            case .none:
                state.delivered.insert(event)
                return .ok
            case .serverError:
                return .status(500, body: "internal error")
            case .tooManyRequests:
                // The handler's answer is written right after it returns: this is the 429's send time.
                state.tooManySentAt[request.path, default: []].append(Date())
                return .status(429, retryAfter: String(retryAfterSeconds), body: "slow down")
            case .reset:
                return .reset
            }
        }
    }

    var snapshot: State { state.withLock { $0 } }
}
