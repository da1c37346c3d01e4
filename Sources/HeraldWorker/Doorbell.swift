import Synchronization

/// Wakes one waiting loop early: a stage rings it when there may be work, the loop waits on it with a timeout.
/// Rings while nobody waits are remembered (once), so no wake-up is lost.
///
/// A wait that ends by a ring cancels its timer task at once, so a busy loop that is rung thousands of times a
/// second does not leave thousands of sleeping timer tasks behind.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation: UInt64 = 0
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or makes the next wait return at once.
    public func ring() {
        let (waiter, timer) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            if let waiter = state.waiter {
                state.waiter = nil
                defer { state.timer = nil }
                return (waiter, state.timer)
            }
            state.rung = true
            return (nil, nil)
        }
        timer?.cancel()
        waiter?.resume()
    }

    /// Waits until rung, the timeout passes, or the task is cancelled. Only one task may wait at a time.
    public func wait(timeout: Duration) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let generation = state.withLock { state -> UInt64? in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return nil
                    }
                    state.waiter = continuation
                    state.generation &+= 1
                    return state.generation
                }
                guard let generation else {
                    continuation.resume()
                    return
                }
                let timer = Task { [weak self] in
                    // Cancelled when rung first: then the sleep ends early and `expire` finds a newer generation.
                    try? await Task.sleep(for: timeout)
                    self?.expire(generation)
                }
                let stale = state.withLock { state -> Bool in
                    guard state.generation == generation, state.waiter != nil else { return true }
                    state.timer = timer
                    return false
                }
                if stale { timer.cancel() }
            }
        } onCancel: {
            ring()
        }
    }

    private func expire(_ generation: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.generation == generation, let waiter = state.waiter else { return nil }
            state.waiter = nil
            state.timer = nil
            return waiter
        }
        waiter?.resume()
    }
}
