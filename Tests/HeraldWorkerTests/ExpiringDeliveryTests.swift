import Foundation
import HeraldCore
import HeraldTesting
import Synchronization
import Testing

/// SPEC §11.6: a one-time passcode not delivered before it expires is dropped and recorded, never sent late.
/// Driven with the manual clock: nothing sleeps to wait for the expiry.
@Suite("Expiring deliveries", .serialized)
struct ExpiringDeliveryTests {
    /// Stores a passcode-like delivery to the harness's webhook server, expiring `ttl` seconds from now.
    static func issue(_ harness: SendHarness, id: String, ttl: TimeInterval = 120) async throws {
        let now = harness.clock.now()
        let address = harness.server.baseURL + "/otp"
        let event = Event(id: "evt_\(id)", key: "otp_code", organization: "acme", occurredAt: now)
        let result = try await harness.store.issueOTP(
            OTPRecord(
                id: id,
                projectId: "p1",
                channel: .webhook,
                destination: address,
                codeHash: "h",
                createdAt: now,
                expiresAt: now + ttl
            ),
            event: NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data("{}".utf8)),
            delivery: NewDelivery(
                eventId: event.id,
                channel: .webhook,
                notifierId: 6,
                recipient: Recipient(kind: .address, address: address),
                reason: .explicit,
                destination: address,
                payload: Data(#"{"code":"secret"}"#.utf8),
                contentType: "application/json",
                expiresAt: now + ttl
            ),
            limits: OTPIssueLimits(perDestinationPerHour: 100, minInterval: 0),
            now: now
        )
        if case .limited = result { Issue.record("the passcode was refused: \(result)") }
    }

    @Test func aDeliveryInTimeIsSent() async throws {
        let harness = try await SendHarness { _ in .ok }
        try await Self.issue(harness, id: "otp_1")
        harness.clock.advance(by: 119)
        try await harness.step()
        #expect(try await harness.deliveries().map(\.state) == [.delivered])
        #expect(harness.server.requestCount == 1)
        try await harness.shutdown()
    }

    @Test func aDeliveryClaimedAfterItsExpiryIsDroppedWithoutARequest() async throws {
        let harness = try await SendHarness { _ in .ok }
        try await Self.issue(harness, id: "otp_2")
        harness.clock.advance(by: 120)
        try await harness.step()
        let delivery = try #require(try await harness.deliveries().first)
        #expect(delivery.state == .dead)
        #expect(delivery.lastReason == .expired)
        #expect(delivery.lastError?.contains("expired") == true, "\(delivery.lastError ?? "")")
        #expect(delivery.lastError?.contains("secret") == false)
        #expect(harness.server.requestCount == 0, "never sent late")
        try await harness.shutdown()
    }

    @Test func aRetryDueAfterTheExpiryIsNeverSent() async throws {
        let answered = Atomic(0)
        let harness = try await SendHarness { _ in
            answered.add(1, ordering: .relaxed).newValue == 1 ? .status(503, body: "busy") : .ok
        }
        try await Self.issue(harness, id: "otp_3", ttl: 60)
        try await harness.step()
        #expect(try await harness.deliveries().map(\.state) == [.retrying])
        harness.clock.advance(by: 61)
        try await harness.step()
        let delivery = try #require(try await harness.deliveries().first)
        #expect(delivery.state == .dead)
        #expect(delivery.lastReason == .expired)
        #expect(harness.server.requestCount == 1, "the retry was not sent after the expiry")
        try await harness.shutdown()
    }
}
