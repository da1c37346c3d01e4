import Testing

@testable import HeraldApp

@Suite("Memory trim schedule")
struct MemoryTrimTests {
    /// Feeds activity counts one look at a time; returns the looks (1-based) at which a trim was due.
    static func trims(_ activity: [Int], quietRounds: Int = 2) -> [Int] {
        var schedule = MemoryTrimSchedule(quietRounds: quietRounds)
        return activity.enumerated().compactMap { schedule.observe(activity: $0.element) ? $0.offset + 1 : nil }
    }

    @Test func anIdleDaemonNeverTrims() {
        #expect(Self.trims([0, 0, 0, 0, 0, 0]) == [])
    }

    @Test func oneTrimAfterEachBurstOnceQuiet() {
        // Busy at looks 2-3, quiet from 4: trims at the second quiet look; busy again at 8, trims at 10.
        #expect(Self.trims([0, 5, 9, 9, 9, 9, 9, 12, 12, 12, 12]) == [5, 10])
    }

    @Test func aBurstThatNeverPausesIsNotTrimmed() {
        #expect(Self.trims([1, 2, 3, 4, 5, 6, 7]) == [])
    }

    @Test func trimmingReturnsMemoryWithoutHarm() {
        // glibc's malloc_trim is there on Linux; calling it any time is safe.
        #expect(MemoryTuning.trim())
    }
}
