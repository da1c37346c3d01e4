import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time in nanoseconds (`CLOCK_MONOTONIC`).
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Sleeps until the monotonic instant `deadline` (nanoseconds).
func sleep(untilNanos deadline: UInt64) {
    var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
}

/// Sleeps for `milliseconds`.
func sleep(milliseconds: Double) {
    sleep(untilNanos: monotonicNanos() + UInt64(max(0, milliseconds) * 1_000_000))
}

/// Nanoseconds as milliseconds.
func millis(_ nanos: UInt64) -> Double {
    Double(nanos) / 1_000_000
}

/// A number with a fixed count of decimals.
func fixed(_ value: Double, _ decimals: Int = 1) -> String {
    String(format: "%.\(decimals)f", value)
}
