import Foundation
import HeraldCore
import HeraldProviders
import HeraldSQLite
import HeraldTesting
import Testing

@testable import HeraldAPI
@testable import HeraldApp

/// One-time passcodes over a real SQLite file and the real SMS and email renderers, on a manual clock.
final class OTPHarness: Sendable {
    let clock = ManualClock()
    let store: SQLiteStore
    let directory: URL
    let service: OTPService

    static let directoryJSON = """
        {"organizations": [{"id": "acme", "slug": "acme", "name": "Acme"}],
         "projects": [
           {"id": "p1", "organization": "acme", "slug": "backend", "name": "Backend",
            "settings": {"smsNotifier": 5, "emailNotifier": 1, "otpCodeLength": 6, "otpTtlSeconds": 120}},
           {"id": "p2", "organization": "acme", "slug": "bare", "name": "Bare"},
           {"id": "p3", "organization": "acme", "slug": "unsent", "name": "Unsent",
            "settings": {"smsNotifier": 7, "otpCodeLength": 4, "otpTtlSeconds": 30}}
         ]}
        """

    init(limits: OTPIssueLimits = OTPIssueLimits()) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-otp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        let document = try DirectoryDocument.parse(Data(Self.directoryJSON.utf8), catalog: Catalog())
        try await store.importDirectory(document, now: clock.now())
        let providers = ProviderSet(
            providers: [
                SMSProvider(
                    notifier: NotifierInfo(id: 5, name: "twilio", channel: .sms),
                    connection: SMSConnection(
                        apiURL: "http://127.0.0.1:9",
                        accountSid: "AC1",
                        authToken: "tok",
                        from: "+15550001111"
                    )
                ),
                EmailProvider(
                    notifier: NotifierInfo(id: 1, name: "smtp", channel: .email),
                    connection: EmailConnection(url: "smtp://127.0.0.1:9", from: "Herald <n@herald.test>")
                ),
            ],
            defaults: [:]
        )
        service = OTPService(
            store: store,
            providers: { providers },
            secret: Data("otp-test-secret".utf8),
            limits: limits,
            clock: clock
        )
    }

    func close() async throws {
        try await store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The delivery of passcode `otpId` (its event is `evt_<otpId>`).
    func delivery(of otpId: String) async throws -> Delivery {
        let record = try #require(try await store.eventRecord(id: "evt_" + otpId))
        return try #require(record.deliveries.first)
    }

    /// The code as the recipient reads it: the digits of the rendered payload's first sentence.
    func code(of otpId: String) async throws -> String {
        let payload = String(decoding: try await delivery(of: otpId).payload, as: UTF8.self)
        let body = OutboxRouterForms.field("Body", in: payload) ?? payload
        let match = try #require(body.firstMatch(of: /\b([0-9]{4,10})\b is your/))
        return String(match.1)
    }
}

enum OutboxRouterForms {
    static func field(_ name: String, in form: String) -> String? {
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.first == name, parts.count == 2 {
                return parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
        }
        return nil
    }
}

@Suite("One-time passcodes", .serialized)
struct OTPServiceTests {
    @Test func issuesACodeOfTheProjectsLengthAndVerifiesItOnce() async throws {
        let harness = try await OTPHarness()
        let issued = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000001")
        #expect(issued.otpId.hasPrefix("otp_"))
        #expect(issued.expiresAt == harness.clock.now() + 120)
        let code = try await harness.code(of: issued.otpId)
        #expect(code.count == 6 && code.allSatisfy(\.isNumber))
        let delivery = try await harness.delivery(of: issued.otpId)
        #expect(delivery.channel == .sms && delivery.notifierId == 5)
        #expect(delivery.expiresAt == issued.expiresAt)
        let text = OutboxRouterForms.field("Body", in: String(decoding: delivery.payload, as: UTF8.self)) ?? ""
        #expect(text.contains("expires in 2 minutes") && text.contains("Never share it"), "\(text)")

        #expect(try await harness.service.verify(projectId: "p1", otpId: issued.otpId, code: code) == .verified)
        #expect(try await harness.service.verify(projectId: "p1", otpId: issued.otpId, code: code) == .alreadyUsed)
        try await harness.close()
    }

    @Test func theCodeIsStoredOnlyAsAKeyedHashAndOnlyInThePayload() async throws {
        let harness = try await OTPHarness()
        let issued = try await harness.service.issue(projectId: "p1", channel: "email", to: "ann@example.com")
        let code = try await harness.code(of: issued.otpId)
        let record = try #require(try await harness.store.otp(id: issued.otpId))
        #expect(record.codeHash.count == 64 && !record.codeHash.contains(code))
        #expect(record.codeHash == harness.service.hash(otpId: issued.otpId, code: code))
        let event = try #require(try await harness.store.eventRecord(id: "evt_" + issued.otpId))
        #expect(event.event.key == "otp_code" && event.state == .fannedOut)
        let eventText = String(decoding: try JSONEncoder().encode(event.event), as: UTF8.self)
        #expect(!eventText.contains(code), "the stored event never holds the code: \(eventText)")
        // What `herald explain` and `herald deliveries list` print.
        let lines = event.deliveries.map { Commands.describeLine($0) }
        let json = try event.deliveries.map {
            String(decoding: try Commands.describeJSON($0).canonicalData(), as: UTF8.self)
        }
        for line in lines + json { #expect(!line.contains(code), "\(line)") }
        let mail = String(decoding: event.deliveries[0].payload, as: UTF8.self)
        #expect(mail.contains(code), "the rendered message is the one place the code lives")
        #expect(!mail.contains("List-Unsubscribe"), "a critical message has no unsubscribe link")
        try await harness.close()
    }

    @Test func fiveWrongCodesLockThePasscode() async throws {
        let harness = try await OTPHarness()
        let issued = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000002")
        let code = try await harness.code(of: issued.otpId)
        let wrong = code == "000000" ? "111111" : "000000"
        for remaining in [4, 3, 2, 1] {
            let result = try await harness.service.verify(projectId: "p1", otpId: issued.otpId, code: wrong)
            #expect(result == .wrong(remaining: remaining))
        }
        #expect(try await harness.service.verify(projectId: "p1", otpId: issued.otpId, code: wrong) == .locked)
        #expect(try await harness.service.verify(projectId: "p1", otpId: issued.otpId, code: code) == .locked)
        try await harness.close()
    }

    @Test func anExpiredCodeNoLongerVerifies() async throws {
        let harness = try await OTPHarness()
        let issued = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000003")
        let code = try await harness.code(of: issued.otpId)
        harness.clock.advance(by: 120)
        #expect(try await harness.service.verify(projectId: "p1", otpId: issued.otpId, code: code) == .expired)
        try await harness.close()
    }

    @Test func verificationIsScopedToTheProject() async throws {
        let harness = try await OTPHarness()
        let issued = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000004")
        let code = try await harness.code(of: issued.otpId)
        #expect(try await harness.service.verify(projectId: "p2", otpId: issued.otpId, code: code) == .notFound)
        #expect(try await harness.service.verify(projectId: "p1", otpId: "otp_nope", code: code) == .notFound)
        #expect(try await harness.service.verify(projectId: "p1", otpId: issued.otpId, code: code) == .verified)
        try await harness.close()
    }

    @Test func perDestinationLimitsAnswerWithTheNextAllowedTime() async throws {
        let harness = try await OTPHarness(limits: OTPIssueLimits(perDestinationPerHour: 5, minInterval: 30))
        let start = harness.clock.now()
        _ = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000005")
        await #expect(throws: OTPService.Failure.limited(retryAt: start + 30)) {
            _ = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000005")
        }
        for _ in 0..<4 {
            harness.clock.advance(by: 30)
            _ = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000005")
        }
        harness.clock.advance(by: 30)
        await #expect(throws: OTPService.Failure.limited(retryAt: start + 3600)) {
            _ = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000005")
        }
        // Another destination is not held back.
        _ = try await harness.service.issue(projectId: "p1", channel: "sms", to: "+15550000006")
        try await harness.close()
    }

    @Test(arguments: [
        ("p1", "fax", "+15550000001", "channel"),
        ("p1", "sms", "not-a-number", "to"),
        ("p1", "email", "nobody", "to"),
        ("p2", "sms", "+15550000001", "smsNotifier"),
        ("p2", "email", "ann@example.com", "emailNotifier"),
        ("p3", "sms", "+15550000001", "smsNotifier"),
    ])
    func refusesNamingTheField(project: String, channel: String, to: String, field: String) async throws {
        let harness = try await OTPHarness()
        do {
            _ = try await harness.service.issue(projectId: project, channel: channel, to: to)
            Issue.record("issued despite a bad \(field)")
        } catch let OTPService.Failure.invalid(problems) {
            #expect(problems.map(\.field) == [field], "\(problems)")
        }
        #expect(try await harness.store.status(now: harness.clock.now()).deliveries.values.reduce(0, +) == 0)
        try await harness.close()
    }

    @Test func anUnknownProjectIsNotFound() async throws {
        let harness = try await OTPHarness()
        await #expect(throws: OTPService.Failure.projectNotFound("p9")) {
            _ = try await harness.service.issue(projectId: "p9", channel: "sms", to: "+15550000001")
        }
        try await harness.close()
    }

    @Test func codesAreUniformDigitsFromTheSystemGenerator() {
        var counts = [Character: Int]()
        for _ in 0..<2000 {
            for digit in OTPService.generateCode(length: 10) { counts[digit, default: 0] += 1 }
        }
        #expect(Set(counts.keys) == Set("0123456789"))
        // 20,000 digits: each about 2,000; a broken generator (always 0, modulo bias) falls far outside.
        #expect(counts.values.allSatisfy { (1700...2300).contains($0) }, "\(counts)")
        #expect(OTPService.constantTimeEqual("abc", "abc") && !OTPService.constantTimeEqual("abc", "abd"))
        #expect(!OTPService.constantTimeEqual("abc", "abcd"))
    }
}
