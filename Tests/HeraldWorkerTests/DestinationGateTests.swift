import Foundation
import HeraldCore
import Testing

@testable import HeraldWorker

@Suite("Token bucket, circuit breaker and destination gate")
struct DestinationGateTests {
    let start = Date(timeIntervalSince1970: 1_795_000_000)
    let key = DestinationGate.Key(notifier: 2, destination: "C0123456789")

    @Test func tokenBucketAllowsTheBurstThenHandsOutSpacedReservations() {
        var bucket = TokenBucket(limit: RateLimit(perSecond: 2, burst: 2), now: start)
        let result1 = bucket.reserve(now: start)
        #expect(result1 == start)
        let result2 = bucket.reserve(now: start)
        #expect(result2 == start)
        let result3 = bucket.reserve(now: start)
        #expect(result3 == start.addingTimeInterval(0.5))
        let result4 = bucket.reserve(now: start)
        #expect(result4 == start.addingTimeInterval(1.0))
        let later = start.addingTimeInterval(10)
        let result5 = bucket.reserve(now: later)
        #expect(result5 == later)
    }

    @Test func unlimitedBucketNeverWaits() {
        var bucket = TokenBucket(limit: RateLimit(perSecond: 0, burst: 1), now: start)
        for _ in 0..<1000 { #expect(bucket.reserve(now: start) == start) }
    }

    @Test func breakerOpensAfterThresholdAndProbesAfterCooldown() {
        var breaker = CircuitBreaker(threshold: 3, cooldown: 30)
        let result6 = breaker.admit(now: start)
        #expect(result6 == nil)
        let result7 = breaker.recordFailure(now: start)
        #expect(!result7)
        let result8 = breaker.recordFailure(now: start)
        #expect(!result8)
        let result9 = breaker.recordFailure(now: start)
        #expect(result9)
        let result10 = breaker.admit(now: start.addingTimeInterval(10))
        #expect(result10 == start.addingTimeInterval(30))
        // Half-open: one probe goes, the next waits.
        let result11 = breaker.admit(now: start.addingTimeInterval(31))
        #expect(result11 == nil)
        let result12 = breaker.admit(now: start.addingTimeInterval(31))
        #expect(result12 != nil)
        breaker.recordSuccess()
        let result13 = breaker.admit(now: start.addingTimeInterval(32))
        #expect(result13 == nil)
    }

    @Test func rateLimitedDeliveriesKeepTheirReservedTurn() {
        var gate = DestinationGate()
        let limit = RateLimit(perSecond: 1, burst: 1)
        let result14 = gate.admit(id: 1, key: key, label: "C0123456789", limit: limit, now: start)
        #expect(result14 == .go)
        #expect(
            gate.admit(id: 2, key: key, label: "C0123456789", limit: limit, now: start)
                == .wait(until: start.addingTimeInterval(1), because: .rateLimit)
        )
        #expect(
            gate.admit(id: 3, key: key, label: "C0123456789", limit: limit, now: start)
                == .wait(until: start.addingTimeInterval(2), because: .rateLimit)
        )
        // Delivery 2 comes back at its turn and goes without taking another token; 3 still waits for its own.
        let turn = start.addingTimeInterval(1)
        let result15 = gate.admit(id: 2, key: key, label: "C0123456789", limit: limit, now: turn)
        #expect(result15 == .go)
        #expect(
            gate.admit(id: 3, key: key, label: "C0123456789", limit: limit, now: turn)
                == .wait(until: start.addingTimeInterval(2), because: .rateLimit)
        )
    }

    @Test func retryAfterPausesTheWholeDestination() {
        var gate = DestinationGate()
        let limit = RateLimit(perSecond: 0, burst: 1)
        let result16 = gate.admit(id: 1, key: key, label: "x", limit: limit, now: start)
        #expect(result16 == .go)
        let until = start.addingTimeInterval(2)
        let events = gate.record(
            .failed(.retry(.rateLimited, status: 429, notBefore: until, "ratelimited")),
            key: key,
            now: start
        )
        #expect(events == [.paused(until: until)])
        let result17 = gate.admit(id: 2, key: key, label: "x", limit: limit, now: start.addingTimeInterval(1.9))
        #expect(result17 == .wait(until: until, because: .paused))
        let other = DestinationGate.Key(notifier: 2, destination: "C999999999")
        let result18 = gate.admit(id: 3, key: other, label: "y", limit: limit, now: start)
        #expect(result18 == .go)
        let result19 = gate.admit(id: 2, key: key, label: "x", limit: limit, now: until)
        #expect(result19 == .go)
    }

    @Test func repeatedConfigurationErrorsMarkTheDestinationBroken() {
        var gate = DestinationGate(brokenThreshold: 2)
        let limit = RateLimit(perSecond: 0, burst: 1)
        _ = gate.admit(id: 1, key: key, label: "hooks.example/…", limit: limit, now: start)
        let gone = DeliveryOutcome.failed(.permanent(.configuration, status: 404, "no_service"))
        let result20 = gate.record(gone, key: key, now: start)
        #expect(result20.isEmpty)
        let result21 = gate.record(gone, key: key, now: start)
        #expect(result21 == [.broken])
        #expect(gate.brokenDestinations.map(\.label) == ["hooks.example/…"])
        let result22 = gate.record(.delivered(receipt: nil), key: key, now: start)
        #expect(result22 == [.recovered])
        #expect(gate.brokenDestinations.isEmpty)
    }
}
