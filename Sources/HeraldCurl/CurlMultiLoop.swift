import CCurl
import DequeModule
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

    /// The request's total timeout in seconds (0: none).
    var totalTimeout: TimeInterval {
        switch self {
        case .http(let request, _): request.totalTimeout
        case .smtp(let message, _): message.totalTimeout
        }
    }

    /// The same job with a shorter total timeout: what is left of it after waiting for a connection.
    func withTotalTimeout(_ seconds: TimeInterval) -> CurlJob {
        switch self {
        case .http(var request, let completion):
            request.totalTimeout = seconds
            return .http(request, completion)
        case .smtp(var message, let completion):
            message.totalTimeout = seconds
            return .smtp(message, completion)
        }
    }

    /// `scheme://host[:port]` when libcurl can run only one transfer at a time per connection to it (plain HTTP,
    /// which libcurl never upgrades to HTTP/2 on its own, and SMTP); nil for origins that may multiplex (HTTPS may
    /// negotiate HTTP/2) and for what does not parse.
    var singleStreamOrigin: String? {
        let url: String
        switch self {
        case .http(let request, _): url = request.url
        case .smtp(let message, _): url = message.relayURL
        }
        guard let separator = url.range(of: "://") else { return nil }
        let scheme = url[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "smtp" || scheme == "smtps" else { return nil }
        let rest = url[separator.upperBound...]
        var authority = rest[..<(rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex)]
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        guard !authority.isEmpty else { return nil }
        return scheme + "://" + authority.lowercased()
    }

    var curlProtocol: TransportFailure.CurlProtocol {
        switch self {
        case .http: .http
        case .smtp: .smtp
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
        /// Easy handles created and not cleaned up yet (written by the loop thread, read by tests).
        var handles = 0
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
    /// Transfers running (in the multi handle) per single-stream origin.
    private var runningByOrigin: [String: Int] = [:]
    /// Jobs for a single-stream origin that already runs `maxHostConnections` transfers. They wait here as
    /// jobs, not inside the multi handle: libcurl would hold an easy handle, its buffers and a copy of the body for
    /// each (with 256 in flight to 8 connections, about 3 MB in the W5 benchmark) only to queue it the same way.
    private var waiting: [String: Deque<(job: CurlJob, since: ContinuousClock.Instant)>] = [:]
    private let maxHostConnections: Int

    /// Easy handles that exist now (running or pooled), for tests.
    package var handleCount: Int { shared.withLock { $0.handles } }

    init?(maxHostConnections: Int, maxCachedConnections: Int) {
        guard let multi = curl_multi_init() else { return nil }
        self.multi = multi
        self.maxHostConnections = max(0, maxHostConnections)
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

    /// Starts a job now, or queues it behind the transfers its single-stream origin already runs.
    private func start(_ job: CurlJob) {
        guard maxHostConnections > 0, let origin = job.singleStreamOrigin else {
            _ = begin(job, origin: nil)
            return
        }
        let running = runningByOrigin[origin, default: 0]
        if running >= maxHostConnections {
            waiting[origin, default: []].append((job, .now))
            return
        }
        runningByOrigin[origin] = running + 1
        if !begin(job, origin: origin) {
            originFreed(origin)
        }
    }

    /// A transfer to `origin` ended (or never started): its place goes to the oldest job waiting for one.
    private func originFreed(_ origin: String?) {
        guard let origin else { return }
        while let next = waiting[origin]?.popFirst() {
            // The wait counts toward the total timeout, as it would inside the multi handle.
            var job = next.job
            let total = job.totalTimeout
            if total > 0 {
                let waited = ContinuousClock.now - next.since
                let left = total - Double(waited.components.seconds) - Double(waited.components.attoseconds) * 1e-18
                if left <= 0 {
                    job.fail(Self.waitedTooLong(job, total: total))
                    continue
                }
                job = job.withTotalTimeout(left)
            }
            if begin(job, origin: origin) {
                return
            }
        }
        waiting[origin] = nil
        let running = runningByOrigin[origin, default: 1] - 1
        runningByOrigin[origin] = running > 0 ? running : nil
    }

    /// A job whose total timeout passed while it waited for a connection: nothing of it was sent.
    private static func waitedTooLong(_ job: CurlJob, total: TimeInterval) -> TransportFailure {
        TransportFailure.curl(
            code: CURLE_OPERATION_TIMEDOUT,
            protocol: job.curlProtocol,
            requestSent: false,
            detail: "timed out after \(Int(total * 1000)) ms waiting for a free connection",
            secrets: []
        )
    }

    /// Puts a job on an easy handle in the multi; false when it failed at once (its completion has run).
    private func begin(_ job: CurlJob, origin: String?) -> Bool {
        guard let transfer = pool.popLast() ?? makeTransfer() else {
            job.fail(TransportFailure(kind: .local, code: 2, requestSent: false, message: "CURLE_FAILED_INIT"))
            return false
        }
        transfer.origin = origin
        let code: CURLcode
        switch job {
        case .http(let request, let completion):
            code = transfer.prepare(request, completion: completion)
        case .smtp(let message, let completion):
            code = transfer.prepare(message, completion: completion)
        }
        if code != CURLE_OK {
            fail(transfer, code: code)
            return false
        }
        if curl_multi_add_handle(multi, transfer.handle) != CURLM_OK {
            fail(transfer, code: CURLE_FAILED_INIT)
            return false
        }
        transfer.activeIndex = active.count
        active.append(transfer)
        return true
    }

    private func makeTransfer() -> CurlEasyTransfer? {
        guard let transfer = CurlEasyTransfer() else { return nil }
        shared.withLock { $0.handles += 1 }
        return transfer
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
            let origin = transfer.origin
            curl_multi_remove_handle(multi, easy)
            removeActive(transfer)
            release(transfer)
            originFreed(origin)
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
        } else {
            shared.withLock { $0.handles -= 1 }
        }
    }

    private func abortAll() {
        for job in batch {
            job.fail(Self.abortedFailure)
        }
        batch.removeAll()
        let lines = waiting
        waiting.removeAll()
        for line in lines.values {
            for waiter in line {
                waiter.job.fail(Self.abortedFailure)
            }
        }
        runningByOrigin.removeAll()
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
        shared.withLock { $0.handles = 0 }
    }
}
