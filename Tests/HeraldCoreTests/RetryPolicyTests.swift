import Foundation
import HeraldCore
import Testing

@Suite("Retry policy and Retry-After")
struct RetryPolicyTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)
    let policy = RetryPolicy()
    let limits = RetryLimits(maxAttempts: 8, maxAge: 3600)

    @Test func backoffCeilingDoublesUpToTheCap() {
        #expect(policy.ceiling(afterAttempt: 1) == 1)
        #expect(policy.ceiling(afterAttempt: 2) == 2)
        #expect(policy.ceiling(afterAttempt: 5) == 16)
        #expect(policy.ceiling(afterAttempt: 20) == 300)
    }

    @Test func fullJitterSpansZeroToTheCeiling() {
        let error = DeliveryError.retry(.serverError, status: 500, "boom")
        let low = policy.decide(error: error, attempt: 3, createdAt: now, limits: limits, now: now) { 0 }
        let high = policy.decide(error: error, attempt: 3, createdAt: now, limits: limits, now: now) { 0.999 }
        #expect(low == .retry(at: now))
        guard case .retry(let at) = high else {
            Issue.record("expected a retry")
            return
        }
        #expect(at.timeIntervalSince(now) > 3.9 && at.timeIntervalSince(now) <= 4)
    }

    @Test func retryAfterIsAFloor() {
        let error = DeliveryError.retry(.rateLimited, status: 429, notBefore: now.addingTimeInterval(30), "slow down")
        #expect(
            policy.decide(error: error, attempt: 1, createdAt: now, limits: limits, now: now) { 0.5 }
                == .retry(at: now.addingTimeInterval(30))
        )
    }

    @Test func hugeRetryAfterIsClamped() {
        let error = DeliveryError.retry(.rateLimited, notBefore: now.addingTimeInterval(86400), "later")
        #expect(
            policy.decide(
                error: error,
                attempt: 1,
                createdAt: now,
                limits: RetryLimits(maxAttempts: 8, maxAge: 86400 * 2),
                now: now
            ) { 0 } == .retry(at: now.addingTimeInterval(900))
        )
    }

    @Test func permanentErrorsAndExhaustedLimitsDeadLetter() {
        let permanent = DeliveryError.permanent(.invalidPayload, status: 400, "invalid_blocks")
        #expect(
            policy.decide(error: permanent, attempt: 1, createdAt: now, limits: limits, now: now) { 0 } == .deadLetter
        )
        let transient = DeliveryError.retry(.serverError, status: 503, "busy")
        #expect(
            policy.decide(error: transient, attempt: 8, createdAt: now, limits: limits, now: now) { 0 } == .deadLetter
        )
        #expect(
            policy.decide(error: transient, attempt: 7, createdAt: now, limits: limits, now: now) { 0 } != .deadLetter
        )
        let old = now.addingTimeInterval(-3599.5)
        #expect(
            policy.decide(error: transient, attempt: 2, createdAt: old, limits: limits, now: now) { 0.9 } == .deadLetter
        )
    }

    @Test func channelDefaultsFollowTheSpecification() {
        #expect(RetryLimits.defaults(for: .slack) == RetryLimits(maxAttempts: 8, maxAge: 3600))
        #expect(RetryLimits.defaults(for: .pagerduty) == RetryLimits(maxAttempts: 12, maxAge: 14400))
        #expect(RetryLimits.defaults(for: .email) == RetryLimits(maxAttempts: 12, maxAge: 86400))
        #expect(RetryLimits.defaults(for: .sms) == RetryLimits(maxAttempts: 5, maxAge: 1800))
    }

    @Test func retryAfterParsesSecondsAndHTTPDates() throws {
        #expect(RetryAfter.parse("2", now: now) == now.addingTimeInterval(2))
        #expect(RetryAfter.parse(" 120 ", now: now) == now.addingTimeInterval(120))
        let date = Date(timeIntervalSince1970: 1_795_000_060)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(RetryAfter.parse(formatter.string(from: date), now: now) == date)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == now)  // past: clamp to now
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse(nil, now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
    }
}
