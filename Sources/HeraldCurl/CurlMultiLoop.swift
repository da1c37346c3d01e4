import CCurl
import Foundation
import HeraldCore
import Synchronization

/// A request handed to the loop thread, with what to call when it ends.
enum CurlJob: Sendable {
    case http(HTTPRequest, @Sendable (TransportResult) -> Void)
    case smtp(MailMessage, @Sendable (MailResult) -> Void)

    func fail(_ failure: TransportFailure) {
        switch self {
        case .http(_, let completion): completion(.failure(failure))
        case .smtp(_, let completion): completion(.failure(failure))
        }
    }
}

/// One thread that owns a libcurl multi handle and runs every transfer on it (providers.md §6.2).
///
/// `@unchecked Sendable` is safe because: the queue and the stop flag live in a `Mutex`; `multi` is used only
/// by the loop thread, except `curl_multi_wakeup`, which libcurl allows from any thread, and
/// `curl_multi_cleanup` in `deinit`, when no thread holds the loop any more; `pool`, `active` and `batch`
/// are touched only by the loop thread (and by `deinit`, after that thread has ended).
final class CurlMultiLoop: @unchecked Sendable {
    private struct Shared {
        var queue: [CurlJob] = []
        var stopping = false
    }

    /// libcurl wants to be polled at least this often, even when it reports a longer timeout.
    private static let maxPollMilliseconds = 1000
    /// Idle easy handles kept for reuse; more than this are cleaned up when they finish.
    private static let maxPooledHandles = 1024

    private let shared = Mutex(Shared())
    /// The loop thread, once running: a job submitted from it (by a completion) needs no wake-up.
    private let loopThread = Atomic<UInt>(0)
    private let multi: UnsafeMutableRawPointer
    private let finished = DispatchSemaphore(value: 0)

    // Loop thread only.
    private var pool: [CurlEasyTransfer] = []
    private var active: [CurlEasyTransfer] = []
    private var batch: [CurlJob] = []

    init?(maxHostConnections: Int, maxCachedConnections: Int) {
        guard let multi = curl_multi_init() else { return nil }
        self.multi = multi
        _ = herald_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, maxHostConnections))
        _ = herald_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, maxCachedConnections))
        batch.reserveCapacity(256)
        active.reserveCapacity(256)
        shared.withLock { $0.queue.reserveCapacity(256) }
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Starts the loop thread; call once.
    func start() {
        let thread = Thread { [self] in
            run()
        }
        thread.name = "herald-curl"
        thread.start()
    }

    /// Queues a job for the loop thread; fails it at once after shutdown.
    func submit(_ job: CurlJob) {
        let state = shared.withLock { state -> SubmitState in
            if state.stopping {
                return .rejected
            }
            state.queue.append(job)
            // The loop takes the whole queue at once: if it was not empty, a wake-up is already on its way.
            return state.queue.count == 1 ? .wakeLoop : .queued
        }
        // The loop thread itself (a completion starting the next transfer) looks at the queue before it polls.
        if case .wakeLoop = state, loopThread.load(ordering: .relaxed) == UInt(pthread_self()) {
            return
        }
        switch state {
        case .rejected: job.fail(Self.abortedFailure)
        case .wakeLoop: curl_multi_wakeup(multi)
        case .queued: break
        }
    }

    private enum SubmitState {
        case rejected
        case wakeLoop
        case queued
    }

    /// Fails queued and running transfers with `.aborted`, ends the thread and waits for it.
    func shutdown() {
        let first = shared.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first {
            curl_multi_wakeup(multi)
        }
        // Let every caller of shutdown (and deinit) through once the thread has ended.
        finished.wait()
        finished.signal()
    }

    static let abortedFailure = TransportFailure(
        kind: .aborted,
        code: Int(CURLE_ABORTED_BY_CALLBACK.rawValue),
        requestSent: false,
        message: "CURLE_ABORTED_BY_CALLBACK: transport shut down"
    )

    // MARK: - The loop

    private func run() {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        var running: Int32 = 0
        while true {
            let stopping = shared.withLock { state -> Bool in
                swap(&state.queue, &batch)
                return state.stopping
            }
            if stopping {
                break
            }
            for job in batch {
                start(job)
            }
            batch.removeAll(keepingCapacity: true)

            _ = curl_multi_perform(multi, &running)
            drainFinished()
            // Completions may have queued the next transfers without waking the loop: take them first.
            if shared.withLock({ !$0.queue.isEmpty }) { continue }

            var timeout = -1
            _ = curl_multi_timeout(multi, &timeout)
            if timeout < 0 || timeout > Self.maxPollMilliseconds {
                timeout = Self.maxPollMilliseconds
            }
            if timeout > 0 {
                _ = curl_multi_poll(multi, nil, 0, Int32(timeout), nil)
            }
        }
        abortAll()
        finished.signal()
    }

    private func start(_ job: CurlJob) {
        guard let transfer = pool.popLast() ?? CurlEasyTransfer() else {
            job.fail(TransportFailure(kind: .local, code: 2, requestSent: false, message: "CURLE_FAILED_INIT"))
            return
        }
        let code: CURLcode
        switch job {
        case .http(let request, let completion):
            code = transfer.prepare(request, completion: completion)
        case .smtp(let message, let completion):
            code = transfer.prepare(message, completion: completion)
        }
        if code != CURLE_OK {
            fail(transfer, code: code)
            return
        }
        if curl_multi_add_handle(multi, transfer.handle) != CURLM_OK {
            fail(transfer, code: CURLE_FAILED_INIT)
            return
        }
        transfer.activeIndex = active.count
        active.append(transfer)
    }

    /// Ends a transfer that never reached the multi.
    private func fail(_ transfer: CurlEasyTransfer, code: CURLcode) {
        let completion = transfer.complete(code: code)
        release(transfer)
        completion?.resume()
    }

    private func drainFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = herald_multi_message_result(message)
            guard let context = herald_easy_getinfo_private(easy) else { continue }
            let transfer = Unmanaged<CurlEasyTransfer>.fromOpaque(context).takeUnretainedValue()
            let completion = transfer.complete(code: code)
            curl_multi_remove_handle(multi, easy)
            removeActive(transfer)
            release(transfer)
            completion?.resume()
        }
    }

    private func removeActive(_ transfer: CurlEasyTransfer) {
        let index = transfer.activeIndex
        guard index >= 0, index < active.count, active[index] === transfer else { return }
        let last = active.removeLast()
        if index < active.count {
            active[index] = last
            last.activeIndex = index
        }
    }

    private func release(_ transfer: CurlEasyTransfer) {
        transfer.recycle()
        if pool.count < Self.maxPooledHandles {
            pool.append(transfer)
        }
    }

    private func abortAll() {
        for job in batch {
            job.fail(Self.abortedFailure)
        }
        batch.removeAll()
        let running = active
        active.removeAll()
        for transfer in running {
            let completion = transfer.abandon(with: Self.abortedFailure)
            curl_multi_remove_handle(multi, transfer.handle)
            transfer.recycle()
            completion?.resume()
        }
        // Releasing the transfers runs curl_easy_cleanup; the multi itself goes in deinit.
        pool.removeAll()
    }
}
