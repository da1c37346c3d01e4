import HeraldWorker
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for the daemon.
enum MemoryTuning {
    /// glibc hands freed memory back to the kernel as soon as the top of a heap is free; at thousands of
    /// deliveries per second that churn showed up as page faults and `madvise` calls taking about 40 % of the
    /// daemon's CPU in the W1 benchmark. Keeping a pad and a higher trim threshold removes it; capping the
    /// number of arenas keeps the idle footprint small on a 2-core machine.
    static func apply() {
        #if canImport(Glibc)
        // `mallopt` lives in <malloc.h>, which the Glibc module does not export: look it up by name.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-1, 64 * 1024 * 1024)  // M_TRIM_THRESHOLD
        _ = mallopt(-2, 8 * 1024 * 1024)  // M_TOP_PAD
        // An operator's MALLOC_ARENA_MAX (glibc's own variable) wins over ours.
        if getenv("MALLOC_ARENA_MAX") == nil {
            _ = mallopt(-8, 2)  // M_ARENA_MAX
        }
        #endif
    }
}

extension MemoryTuning {
    /// Hands the heap's free pages back to the kernel (glibc's `malloc_trim`); false when unavailable.
    @discardableResult
    static func trim() -> Bool {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return false }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        return true
        #else
        return false
        #endif
    }
}

/// When to trim: once after each burst, when the worker has done nothing for `quietRounds` looks in a row.
struct MemoryTrimSchedule {
    let quietRounds: Int
    private var lastActivity: Int?
    private var quiet = 0
    private var trimmed = true

    init(quietRounds: Int = 2) {
        self.quietRounds = max(1, quietRounds)
    }

    /// Takes the worker's running activity count (it only grows); true when the heap should be trimmed now.
    mutating func observe(activity: Int) -> Bool {
        defer { lastActivity = activity }
        guard let lastActivity, lastActivity == activity else {
            // Busy (or the first look): trim once it has been quiet again.
            if lastActivity != nil { trimmed = false }
            quiet = 0
            return false
        }
        quiet += 1
        guard !trimmed, quiet >= quietRounds else { return false }
        trimmed = true
        return true
    }
}

/// Gives memory freed after a burst back to the kernel once the worker is quiet.
///
/// The allocator keeps freed memory while the daemon works (`MemoryTuning.apply`: returning it at once cost W1 40 %
/// of its CPU in page faults), so without this a burst's peak would stay the daemon's footprint until the next
/// one: after W1 and W2, W5 started from their leftovers and its peak crossed 64 MB in some runs.
struct MemoryTrimService: Service {
    let counters: WorkerCounters
    var interval: Duration = .milliseconds(500)

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                var schedule = MemoryTrimSchedule()
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    let activity =
                        counters.attempts.load(ordering: .relaxed) + counters.eventsFannedOut.load(ordering: .relaxed)
                        + counters.deferred.load(ordering: .relaxed)
                    if schedule.observe(activity: activity) { MemoryTuning.trim() }
                }
            }
        } catch is CancellationError {
            // Graceful shutdown cancels the sleep.
        }
    }
}
