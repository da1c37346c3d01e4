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
