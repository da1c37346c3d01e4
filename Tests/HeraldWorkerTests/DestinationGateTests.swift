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

    /// What `GET /notifiers` reports for one destination after a sequence of outcomes, at a given time.
    struct HealthCase: Sendable, CustomTestStringConvertible {
        var name: String
        var outcomes: [DeliveryOutcome]
        var at: TimeInterval
        var expected: DestinationHealth?
        var testDescription: String { name }
    }

    static let healthStart = Date(timeIntervalSince1970: 1_795_000_000)
    static let serverError = DeliveryOutcome.failed(.retry(.serverError, status: 503, "upstream 503"))
    static let gone = DeliveryOutcome.failed(.permanent(.configuration, status: 404, "no_service"))
    static let limited = DeliveryOutcome.failed(
        .retry(.rateLimited, status: 429, notBefore: healthStart.addingTimeInterval(60), "ratelimited")
    )
    static func held(_ state: DestinationHealth.State, until: TimeInterval?, _ error: String?) -> DestinationHealth {
        DestinationHealth(
            notifier: 2,
            label: "C0123…",
            state: state,
            until: until.map { healthStart.addingTimeInterval($0) },
            lastError: error
        )
    }

    static let healthCases: [HealthCase] = [
        HealthCase(name: "nothing happened", outcomes: [], at: 0, expected: nil),
        HealthCase(name: "delivered", outcomes: [.delivered(receipt: "ts")], at: 0, expected: nil),
        HealthCase(
            name: "Retry-After pauses until its time",
            outcomes: [limited],
            at: 1,
            expected: held(.paused, until: 60, "rateLimited 429: ratelimited")
        ),
        HealthCase(name: "a pause that has passed", outcomes: [limited], at: 61, expected: nil),
        HealthCase(
            name: "three server errors open the circuit for the cooldown",
            outcomes: [serverError, serverError, serverError],
            at: 5,
            expected: held(.circuitOpen, until: 30, "serverError 503: upstream 503")
        ),
        HealthCase(name: "two server errors do not", outcomes: [serverError, serverError], at: 5, expected: nil),
        HealthCase(
            name: "an open circuit outranks a pause",
            outcomes: [limited, serverError, serverError, serverError],
            at: 5,
            expected: held(.circuitOpen, until: 30, "serverError 503: upstream 503")
        ),
        HealthCase(
            name: "repeated configuration errors: broken, with no end",
            outcomes: [gone, gone, gone],
            at: 5,
            expected: held(.broken, until: nil, "configuration 404: no_service")
        ),
        HealthCase(
            name: "broken outranks an open circuit",
            outcomes: [serverError, serverError, serverError, gone, gone, gone],
            at: 5,
            expected: held(.broken, until: nil, "configuration 404: no_service")
        ),
        HealthCase(
            name: "a delivery heals a broken destination",
            outcomes: [gone, gone, gone, .delivered(receipt: nil)],
            at: 5,
            expected: nil
        ),
    ]

    @Test(arguments: healthCases)
    func healthReportsTheWorstStateWithItsEndAndTheLastError(_ example: HealthCase) {
        var gate = DestinationGate(breakerThreshold: 3, breakerCooldown: 30, brokenThreshold: 3)
        let start = Self.healthStart
        _ = gate.admit(id: 1, key: key, label: "C0123…", limit: RateLimit(perSecond: 0, burst: 1), now: start)
        for outcome in example.outcomes { _ = gate.record(outcome, key: key, now: start) }
        let health = gate.health(now: start.addingTimeInterval(example.at))
        #expect(health == (example.expected.map { [$0] } ?? []))
    }

    @Test func aPauseAnotherInstanceRecordedIsReportedWithoutItsDestination() {
        var gate = DestinationGate()
        let until = start.addingTimeInterval(45)
        gate.adoptSharedPauses([DestinationGate.Key(notifier: 7, destination: "https://hooks.example/secret"): until])
        let health = gate.health(now: start)
        #expect(
            health == [
                DestinationHealth(notifier: 7, label: "(paused by another instance)", state: .paused, until: until)
            ]
        )
        #expect(gate.health(now: until).isEmpty)
    }
}
