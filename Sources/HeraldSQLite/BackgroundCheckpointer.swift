import Foundation
import GRDB
import Synchronization

/// Copies the write-ahead log back into the database file on a thread of its own, for the daemon.
///
/// SQLite's default is that the commit which takes the log past 1,000 pages does this itself: it copies the
/// pages and waits for `fdatasync`, inside the hot path's transaction (a W1 profile showed 3.4 % of the daemon's
/// CPU there, and the writer blocked on the disk meanwhile). Here a separate connection runs a passive checkpoint
/// a few times a second after writes, which never blocks the writer or readers; the writer keeps a far larger
/// automatic threshold only as a bound should this thread fall behind.
final class BackgroundCheckpointer: Sendable {
    /// Log pages at which the daemon's writer still checkpoints by itself (about 80 MB).
    static let writerFallbackPages = 20_000
    /// Log pages at which a command-line store checkpoints by itself (about 40 MB): when the daemon runs, its
    /// checkpointer does it; when it does not, the last connection to close does.
    static let commandLinePages = 10_000

    private let queue: DatabaseQueue
    private let writes = Atomic<UInt64>(0)
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let interval: Duration

    /// Opens the checkpointing connection on `path` (already a WAL database) and starts its thread.
    init(path: String, interval: Duration = .milliseconds(100)) throws {
        var configuration = Configuration()
        configuration.busyMode = .immediateError
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -64")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        self.interval = interval
        let thread = Thread { [self] in run() }
        thread.name = "herald-checkpoint"
        thread.start()
    }

    /// Called after each committed write of this process.
    func noteWrite() {
        writes.add(1, ordering: .relaxed)
    }

    /// Stops the thread (after one last checkpoint) and waits for it.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        finished.wait()
        try? queue.close()
    }

    /// Passive checkpoints that copied frames, for tests.
    let checkpoints = Atomic<Int>(0)

    private func run() {
        var seen: UInt64 = 0
        var sinceLast = Duration.zero
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) * 1e-18
        while !stopped.load(ordering: .relaxed) {
            Thread.sleep(forTimeInterval: seconds)
            sinceLast += interval
            let current = writes.load(ordering: .relaxed)
            // After this process's writes, or every 2 s for what other processes wrote.
            guard current != seen || sinceLast >= .seconds(2) else { continue }
            seen = current
            sinceLast = .zero
            checkpoint()
        }
        checkpoint()
        finished.signal()
    }

    private func checkpoint() {
        let copied = try? queue.inDatabase { db in try db.checkpoint(.passive) }
        if let copied, copied.checkpointedFrameCount > 0 {
            checkpoints.add(1, ordering: .relaxed)
        }
    }
}
