import Foundation
import HeraldCore

/// One-time passcodes (SPEC §11.6) and deliveries that expire.
extension StoreConformance {
    static let otpNow = Date(timeIntervalSince1970: 1_800_000_000)

    static func otpIssue(
        _ id: String,
        destination: String = "+15550000001",
        at now: Date,
        ttl: TimeInterval = 120
    ) -> (OTPRecord, NewEvent, NewDelivery) {
        let record = OTPRecord(
            id: id,
            projectId: "p1",
            channel: .sms,
            destination: destination,
            codeHash: "hash-of-\(id)",
            createdAt: now,
            expiresAt: now + ttl
        )
        let event = Event(
            id: "evt_\(id)",
            key: "otp_code",
            organization: "acme",
            project: "p1",
            data: ["otpId": .string(id)],
            recipients: [.address(channel: .sms, address: destination, notifier: 5)],
            occurredAt: now
        )
        let delivery = NewDelivery(
            eventId: event.id,
            channel: .sms,
            notifierId: 5,
            recipient: Recipient(kind: .address, address: destination),
            reason: .explicit,
            destination: "+15550001111",
            payload: Data("Body=code".utf8),
            contentType: "application/x-www-form-urlencoded",
            expiresAt: now + ttl
        )
        return (record, NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data("{}".utf8)), delivery)
    }

    static func otpIssueStoresRecordEventAndExpiringDelivery(_ store: any Store) async throws {
        let now = otpNow
        let (record, event, delivery) = otpIssue("otp_a", at: now)
        let result = try await store.issueOTP(
            record,
            event: event,
            delivery: delivery,
            limits: OTPIssueLimits(),
            now: now
        )
        guard case .issued(let deliveryId) = result else { throw ConformanceFailure("issueOTP answered \(result)") }
        let stored = try unwrap(try await store.otp(id: "otp_a"), "the passcode")
        try expectEqual(stored.codeHash, record.codeHash, "code hash")
        try expectEqual(stored.state, .active, "state")
        try expectEqual(stored.failedAttempts, 0, "failed attempts")
        try expectEqual(stored.destination, "+15550000001", "destination")
        try expectSameTime(stored.expiresAt, now + 120, "expiry")
        let eventRecord = try unwrap(try await store.eventRecord(id: "evt_otp_a"), "the event")
        try expectEqual(eventRecord.state, .fannedOut, "the event is fanned out already")
        try expectEqual(eventRecord.deliveries.map(\.id), [deliveryId], "its one delivery")
        try expectSameTime(eventRecord.deliveries.first?.expiresAt, now + 120, "the delivery's expiry")
        try expect(try await store.hasClaimableEvents(now: now) == false, "fan-out never sees the event")
        let claimed = try await store.claimDeliveries(limit: 10, now: now, leaseUntil: now + 60)
        try expectEqual(claimed.map(\.id), [deliveryId], "the delivery is due at once")
        try expectSameTime(claimed.first?.expiresAt, now + 120, "a claimed delivery carries its expiry")
        try expectEqual(claimed.first?.payload, delivery.payload, "payload")
        try expect(try await store.otp(id: "otp_missing") == nil, "an unknown passcode is nil")
    }

    static func otpPrunedADayPastExpiry(_ store: any Store) async throws {
        let now = otpNow
        for (id, ttl) in [("otp_short", 60.0), ("otp_long", 7200.0)] {
            let (record, event, delivery) = otpIssue(
                id,
                destination: "+1555000\(id.count)\(Int(ttl))",
                at: now,
                ttl: ttl
            )
            let result = try await store.issueOTP(
                record,
                event: event,
                delivery: delivery,
                limits: OTPIssueLimits(),
                now: now
            )
            guard case .issued = result else { throw ConformanceFailure("issueOTP answered \(result)") }
        }
        _ = try await store.prune(now: now + 60 + 3600, retention: Retention())
        try expect(try await store.otp(id: "otp_short") != nil, "an expired passcode is kept for a day")
        _ = try await store.prune(now: now + 60 + 86400 + 1, retention: Retention())
        try expect(try await store.otp(id: "otp_short") == nil, "a passcode a day past its expiry is pruned")
        try expect(try await store.otp(id: "otp_long") != nil, "one that expired less than a day ago stays")
    }

    static func otpIssueHonoursDestinationLimits(_ store: any Store) async throws {
        let now = otpNow
        let limits = OTPIssueLimits(perDestinationPerHour: 3, minInterval: 30)
        func issue(_ id: String, at time: Date, to destination: String = "+15550000001") async throws -> OTPIssueResult
        {
            let (record, event, delivery) = otpIssue(id, destination: destination, at: time)
            return try await store.issueOTP(record, event: event, delivery: delivery, limits: limits, now: time)
        }
        guard case .issued = try await issue("o1", at: now) else { throw ConformanceFailure("first code refused") }
        let early = try await issue("o2", at: now + 10)
        guard case .limited(let retryAt) = early else { throw ConformanceFailure("a code within 30 s: \(early)") }
        try expectSameTime(retryAt, now + 30, "the next code may go 30 s after the last")
        try expect(try await store.otp(id: "o2") == nil, "a limited request stores nothing")
        try expect(try await store.eventRecord(id: "evt_o2") == nil, "nor its event")
        guard case .issued = try await issue("o3", at: now + 10, to: "+15550000002") else {
            throw ConformanceFailure("another destination has its own limits")
        }
        guard case .issued = try await issue("o4", at: now + 30) else { throw ConformanceFailure("second code") }
        guard case .issued = try await issue("o5", at: now + 60) else { throw ConformanceFailure("third code") }
        let fourth = try await issue("o6", at: now + 600)
        guard case .limited(let hourly) = fourth else { throw ConformanceFailure("a 4th code in the hour: \(fourth)") }
        try expectSameTime(hourly, now + 3600, "the hour frees up when the first code leaves it")
        guard case .issued = try await issue("o7", at: now + 3601) else {
            throw ConformanceFailure("a code once the first left the hour")
        }
    }

    static func otpAttemptsVerifyOnceAndLock(_ store: any Store) async throws {
        let now = otpNow
        for id in ["good", "bad"] {
            let (record, event, delivery) = otpIssue(id, destination: "+1555000\(id.count)", at: now)
            _ = try await store.issueOTP(record, event: event, delivery: delivery, limits: OTPIssueLimits(), now: now)
        }
        func attempt(
            _ id: String,
            _ matched: Bool,
            project: String = "p1",
            at time: Date? = nil
        ) async throws
            -> OTPAttemptResult
        {
            try await store.recordOTPAttempt(
                id: id,
                projectId: project,
                matched: matched,
                maxFailures: 5,
                now: time ?? now + 5
            )
        }
        try expectEqual(try await attempt("good", true, project: "p2"), .notFound, "another project's passcode")
        try expectEqual(try await attempt("good", false), .wrong(remaining: 4), "a wrong code counts")
        try expectEqual(try await attempt("good", true), .verified, "the right code verifies")
        try expectEqual(try await attempt("good", true), .alreadyUsed, "and only once")
        try expectEqual(try await store.otp(id: "good")?.state, .verified, "stored as verified")
        for remaining in [4, 3, 2, 1] {
            try expectEqual(try await attempt("bad", false), .wrong(remaining: remaining), "wrong code")
        }
        try expectEqual(try await attempt("bad", false), .locked, "the fifth wrong code locks")
        try expectEqual(try await attempt("bad", true), .locked, "a locked passcode stays locked")
        try expectEqual(try await store.otp(id: "bad")?.failedAttempts, 5, "five failures")
        try expectEqual(try await attempt("missing", true), .notFound, "unknown id")
    }

    static func otpExpiredAttemptsChangeNothing(_ store: any Store) async throws {
        let now = otpNow
        let (record, event, delivery) = otpIssue("late", at: now, ttl: 60)
        _ = try await store.issueOTP(record, event: event, delivery: delivery, limits: OTPIssueLimits(), now: now)
        let result = try await store.recordOTPAttempt(
            id: "late",
            projectId: "p1",
            matched: true,
            maxFailures: 5,
            now: now + 60
        )
        try expectEqual(result, .expired, "at its expiry a passcode no longer verifies")
        try expectEqual(try await store.otp(id: "late")?.state, .active, "an expired attempt writes nothing")
    }
}
