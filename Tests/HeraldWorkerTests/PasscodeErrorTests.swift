import Foundation
import HeraldCore
import HeraldTesting
import Testing

/// SPEC §11.6: a passcode never reaches a stored error, `herald explain` or a log line, even when the receiving
/// end echoes the request in its refusal.
@Suite("Passcode errors", .serialized)
struct PasscodeErrorTests {
    static let code = "482913"

    /// A passcode-like delivery (it expires) whose payload holds `code`, to the harness's webhook server.
    static func issue(_ harness: SendHarness) async throws {
        let now = harness.clock.now()
        let address = harness.server.baseURL + "/otp"
        let event = Event(id: "evt_otp_echo", key: "otp_code", organization: "acme", occurredAt: now)
        _ = try await harness.store.issueOTP(
            OTPRecord(
                id: "otp_echo",
                projectId: "p1",
                channel: .webhook,
                destination: address,
                codeHash: "h",
                createdAt: now,
                expiresAt: now + 120
            ),
            event: NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data("{}".utf8)),
            delivery: NewDelivery(
                eventId: event.id,
                channel: .webhook,
                notifierId: 6,
                recipient: Recipient(kind: .address, address: address),
                reason: .explicit,
                destination: address,
                payload: Data(#"{"text":"\#(code) is your Acme verification code (+15550000042)"}"#.utf8),
                contentType: "application/json",
                expiresAt: now + 120
            ),
            limits: OTPIssueLimits(perDestinationPerHour: 100, minInterval: 0),
            now: now
        )
    }

    @Test func anEchoedCodeIsRedactedFromTheStoredErrorButOtherDigitsStay() async throws {
        let harness = try await SendHarness { request in
            .status(400, body: "error 21211 rejected \(request.bodyText)")
        }
        try await Self.issue(harness)
        try await harness.step()
        let delivery = try #require(try await harness.deliveries().first)
        #expect(delivery.state == .dead)
        let error = try #require(delivery.lastError)
        #expect(!error.contains(Self.code), "\(error)")
        #expect(error.contains("[code] is your Acme"), "\(error)")
        #expect(error.contains("21211"), "a digit run the payload does not hold is kept: \(error)")
        try await harness.shutdown()
    }

    @Test func onlyWholeRunsThePayloadHoldsAreReplaced() {
        let error = DeliveryError.permanent(.clientError, status: 400, "rejected 482913 and 21211")
        #expect(error.withoutPasscodeDigits(of: Data("code 482913".utf8)).detail == "rejected [code] and 21211")
        #expect(error.withoutPasscodeDigits(of: Data("no digits".utf8)).detail == error.detail)
        // Only whole runs of 4 to 10 digits count: not 3, not 11, not a part of a longer run.
        let runs = DeliveryError.permanent(.clientError, "123 4567 12345678901 0000000000 45678")
        #expect(
            runs.withoutPasscodeDigits(of: Data("a 123 4567 12345678901 0000000000!".utf8)).detail
                == "123 [code] 12345678901 [code] 45678"
        )
    }
}
