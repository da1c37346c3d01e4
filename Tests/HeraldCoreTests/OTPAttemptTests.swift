import Foundation
import HeraldCore
import Testing

/// The one decision both stores apply to a verification attempt.
@Suite struct OTPAttemptTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func record(_ state: OTPState, failed: Int, expiresIn: TimeInterval = 60) -> OTPRecord {
        OTPRecord(
            id: "otp_1",
            projectId: "p1",
            channel: .sms,
            destination: "+15550000001",
            codeHash: "00",
            createdAt: now.addingTimeInterval(-10),
            expiresAt: now.addingTimeInterval(expiresIn),
            state: state,
            failedAttempts: failed
        )
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var record: OTPRecord
        var matched: Bool
        var result: OTPAttemptResult
        var state: OTPState?
        var failed: Int?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "match",
            record: record(.active, failed: 2),
            matched: true,
            result: .verified,
            state: .verified,
            failed: 2
        ),
        Case(
            name: "first wrong",
            record: record(.active, failed: 0),
            matched: false,
            result: .wrong(remaining: 4),
            state: .active,
            failed: 1
        ),
        Case(
            name: "fifth wrong locks",
            record: record(.active, failed: 4),
            matched: false,
            result: .locked,
            state: .locked,
            failed: 5
        ),
        Case(name: "used up", record: record(.verified, failed: 0), matched: true, result: .alreadyUsed),
        Case(name: "locked stays locked", record: record(.locked, failed: 5), matched: true, result: .locked),
        Case(
            name: "expired, even matching",
            record: record(.active, failed: 0, expiresIn: 0),
            matched: true,
            result: .expired
        ),
        Case(
            name: "expired wrong does not count",
            record: record(.active, failed: 3, expiresIn: -1),
            matched: false,
            result: .expired
        ),
    ]

    @Test(arguments: cases)
    func attempt(_ example: Case) {
        let (result, update) = example.record.attempt(matched: example.matched, maxFailures: 5, now: Self.now)
        #expect(result == example.result)
        #expect(update?.state == example.state)
        #expect(update?.failedAttempts == example.failed)
    }
}
