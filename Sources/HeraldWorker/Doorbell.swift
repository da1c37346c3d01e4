import Synchronization

/// Wakes one waiting loop early: a stage rings it when there may be work, the loop waits on it with a timeout.
/// Rings while nobody waits are remembered (once), so no wake-up is lost.
///
/// The timeout is kept by one timer task that outlives the waits: a wait ended by a ring leaves the timer
/// sleeping, and the next wait reuses it when its deadline is no earlier. A busy loop rung hundreds of times a
/// second therefore starts no task and arms no timer per wait (each did cost a task, a timer registration with
/// the dispatch manager thread and a cancellation: about a dozen context switches per event in the W3 latency
/// run). Only a wait with an earlier deadline than the sleeping timer's replaces it.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        /// When the current waiter's timeout ends.
        var deadline: ContinuousClock.Instant?
        /// The running timer task's generation and wake-up time; a timer of an older generation ends silently.
        var timerGeneration: UInt64 = 0
        var timerTarget: ContinuousClock.Instant?
        var timer: Task<Void, Never>?
        /// Timer tasks started so far (for tests).
        var timersStarted = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Timer tasks started so far: far fewer than waits when rings end most waits.
    package var timersStarted: Int { state.withLock { $0.timersStarted } }

    /// Whether a task is waiting now (for tests that ring a waiter, not a remembered ring).
    package var isWaiting: Bool { state.withLock { $0.waiter != nil } }

    /// Wakes the waiter, or makes the next wait return at once.
    public func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            state.deadline = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits until rung, the timeout passes, or the task is cancelled. Only one task may wait at a time.
    public func wait(timeout: Duration) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let deadline = ContinuousClock.now.advanced(by: timeout)
                let (resumeNow, replaced, generation) = state.withLock {
                    state -> (Bool, Task<Void, Never>?, UInt64?) in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return (true, nil, nil)
                    }
                    state.waiter = continuation
                    state.deadline = deadline
                    if let target = state.timerTarget, target <= deadline {
                        // The sleeping timer wakes in time; on waking it sleeps on to this deadline.
                        return (false, nil, nil)
                    }
                    state.timerGeneration &+= 1
                    state.timerTarget = deadline
                    state.timersStarted += 1
                    defer { state.timer = nil }
                    return (false, state.timer, state.timerGeneration)
                }
                if resumeNow {
                    continuation.resume()
                    return
                }
                replaced?.cancel()
                guard let generation else { return }
                let timer = Task { [weak self] in
                    guard let self else { return }
                    await self.runTimer(generation: generation, until: deadline)
                }
                let stale = state.withLock { state -> Bool in
                    guard state.timerGeneration == generation else { return true }
                    state.timer = timer
                    return false
                }
                if stale { timer.cancel() }
            }
        } onCancel: {
            ring()
        }
    }

    /// Sleeps to the waiter's deadline, resumes it if it is still waiting then, and sleeps on while later waits
    /// keep a deadline; ends when nobody waits or a newer timer took over.
    private func runTimer(generation: UInt64, until first: ContinuousClock.Instant) async {
        var target = first
        while true {
            try? await Task.sleep(until: target, clock: .continuous)
            let (expired, next) = state.withLock {
                state -> (CheckedContinuation<Void, Never>?, ContinuousClock.Instant?) in
                guard state.timerGeneration == generation else { return (nil, nil) }
                guard let deadline = state.deadline, let waiter = state.waiter else {
                    state.timerTarget = nil
                    state.timer = nil
                    return (nil, nil)
                }
                if deadline <= ContinuousClock.now {
                    state.waiter = nil
                    state.deadline = nil
                    state.timerTarget = nil
                    state.timer = nil
                    return (waiter, nil)
                }
                state.timerTarget = deadline
                return (nil, deadline)
            }
            expired?.resume()
            guard let next else { return }
            target = next
        }
    }
}
