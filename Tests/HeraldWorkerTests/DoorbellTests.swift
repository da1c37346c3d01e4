import HeraldWorker
import Testing

@Suite("Doorbell")
struct DoorbellTests {
    /// Rings once a task waits on the doorbell.
    static func ringWhenWaiting(_ doorbell: Doorbell) -> Task<Void, Never> {
        Task {
            while !doorbell.isWaiting { await Task.yield() }
            doorbell.ring()
        }
    }

    @Test func aRingBeforeTheWaitIsRemembered() async {
        let doorbell = Doorbell()
        doorbell.ring()
        // Returns at once: without the remembered ring this would wait the full hour.
        await doorbell.wait(timeout: .seconds(3600))
        #expect(doorbell.timersStarted == 0)
        #expect(!doorbell.isWaiting)
    }

    @Test func aRingWakesTheWaiter() async {
        let doorbell = Doorbell()
        let ringer = Self.ringWhenWaiting(doorbell)
        await doorbell.wait(timeout: .seconds(3600))
        await ringer.value
        #expect(doorbell.timersStarted == 1)
    }

    @Test func theTimeoutEndsAnUnrungWait() async {
        let doorbell = Doorbell()
        await doorbell.wait(timeout: .milliseconds(20))
        #expect(doorbell.timersStarted == 1)
        #expect(!doorbell.isWaiting)
    }

    @Test func aShorterTimeoutAfterALongerOneIsKept() async {
        // The first wait arms a timer an hour away and is rung; the second wait's 20 ms must not wait for it, so
        // it starts a timer of its own.
        let doorbell = Doorbell()
        let ringer = Self.ringWhenWaiting(doorbell)
        await doorbell.wait(timeout: .seconds(3600))
        await ringer.value
        await doorbell.wait(timeout: .milliseconds(20))
        #expect(doorbell.timersStarted == 2)
    }

    @Test func aLaterTimeoutReusesTheSleepingTimer() async {
        // Rung waits with later deadlines than the first all ride on the first wait's timer; when it wakes it
        // sleeps on to the current waiter's deadline instead of ending the wait early.
        let doorbell = Doorbell()
        for _ in 0..<500 {
            let ringer = Self.ringWhenWaiting(doorbell)
            await doorbell.wait(timeout: .seconds(3600))
            await ringer.value
        }
        #expect(doorbell.timersStarted == 1)
        let first = Self.ringWhenWaiting(doorbell)
        await doorbell.wait(timeout: .milliseconds(30))
        await first.value
        // The 30 ms timer sleeps; this wait's later deadline reuses it and it sleeps on past its own target.
        await doorbell.wait(timeout: .milliseconds(60))
        #expect(doorbell.timersStarted == 2)
        #expect(!doorbell.isWaiting)
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let doorbell = Doorbell()
        let waiter = Task { await doorbell.wait(timeout: .seconds(3600)) }
        while !doorbell.isWaiting { await Task.yield() }
        waiter.cancel()
        await waiter.value
        #expect(!doorbell.isWaiting)
    }
}
