import Foundation
import HTTPTypes
import HeraldCore
import HeraldProviders
import HeraldSQLite
import HeraldTesting
import HummingbirdTesting
import Synchronization
import Testing

@testable import HeraldAPI
@testable import HeraldApp

/// The API harness with one-time passcodes on: the directory of `OTPHarness` (p1 with SMS notifier 5 and email
/// notifier 1, p2 without notifiers), the real SMS and email renderers, and the harness's manual clock.
enum OTPRouteFixture {
    static func harness(
        limits: OTPIssueLimits = OTPIssueLimits(),
        codeLength: Int = 6,
        enabled: Bool = true
    ) async throws -> APIHarness {
        let make: @Sendable (SQLiteStore, ManualClock) -> OTPService = { store, clock in
            OTPService(
                store: store,
                providers: { OTPRouteFixture.providers },
                secret: Data("otp-route-test-secret-0123456789".utf8),
                limits: limits,
                clock: clock
            )
        }
        let harness = try await APIHarness(otp: enabled ? make : nil)
        let json = OTPHarness.directoryJSON.replacingOccurrences(
            of: "\"otpCodeLength\": 6",
            with: "\"otpCodeLength\": \(codeLength)"
        )
        let document = try DirectoryDocument.parse(Data(json.utf8), catalog: Catalog())
        try await harness.store.importDirectory(document, now: harness.clock.now())
        return harness
    }

    static let providers = ProviderSet(
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
}

extension APIHarness {
    /// `POST /projects/{project}/otp`, validated against the document.
    func issueOTP(
        _ client: any TestClientProtocol,
        project: String = "p1",
        channel: String = "sms",
        to: String = "+15550000001",
        token: String = APIHarness.otpToken
    ) async throws -> TestResponse {
        try await call(
            client,
            .post,
            "/api/v1/projects/\(project)/otp",
            token: token,
            json: #"{"channel":"\#(channel)","to":"\#(to)"}"#
        )
    }

    /// `POST /projects/{project}/otp/verify`, validated against the document.
    func verifyOTP(
        _ client: any TestClientProtocol,
        project: String = "p1",
        otpId: String,
        code: String
    ) async throws -> TestResponse {
        try await call(
            client,
            .post,
            "/api/v1/projects/\(project)/otp/verify",
            token: APIHarness.otpToken,
            json: #"{"otpId":"\#(otpId)","code":"\#(code)"}"#
        )
    }

    /// The code of passcode `otpId` as its recipient reads it: from the rendered payload of its delivery.
    func otpCode(_ otpId: String) async throws -> String {
        let record = try #require(try await store.eventRecord(id: "evt_" + otpId))
        let payload = String(decoding: try #require(record.deliveries.first).payload, as: UTF8.self)
        let body = OutboxRouterForms.field("Body", in: payload) ?? payload
        let match = try #require(body.firstMatch(of: /\b([0-9]{4,10})\b is your/))
        return String(match.1)
    }
}

extension TestResponse {
    /// `otpId` of a 202 answer.
    var otpId: String {
        get throws { try #require(try data["otpId"]?.stringValue) }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

/// A code of the same length that is not `code`.
func wrongCode(for code: String) -> String {
    String(code.map { $0 == "0" ? "1" : "0" })
}

@Suite("OTP routes")
struct OTPRouteTests {
    @Test func issueAnswers202WithIdAndExpiryAndAVerifiesOnce() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let issued = try await harness.issueOTP(client)
            #expect(issued.status == .accepted)
            let data = try issued.data
            #expect(data.objectValue.map { Set($0.keys) } == ["otpId", "expiresAt"])
            #expect(data["expiresAt"] == .string(Timestamp.format(harness.clock.now() + 120)))
            let otpId = try issued.otpId
            let code = try await harness.otpCode(otpId)
            #expect(code.count == 6)
            #expect(!String(buffer: issued.body).contains(code))

            let verified = try await harness.verifyOTP(client, otpId: otpId, code: code)
            #expect(verified.status == .ok)
            #expect(try verified.data == .object(["verified": .bool(true)]))
            let again = try await harness.verifyOTP(client, otpId: otpId, code: code)
            #expect(again.status == .badRequest)
            #expect(again.errorCode == "OTP_INVALID")
            #expect(again.errorFields == ["otpId"])
        }
    }

    @Test func anEmailPasscodeGoesThroughTheEmailNotifier() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let issued = try await harness.issueOTP(client, channel: "email", to: "ann@example.com")
            #expect(issued.status == .accepted)
            let otpId = try issued.otpId
            let record = try #require(try await harness.store.eventRecord(id: "evt_" + otpId))
            #expect(record.deliveries.map(\.notifierId) == [1])
            #expect(record.deliveries.map(\.channel) == [.email])
            let code = try await harness.otpCode(otpId)
            #expect(try await harness.verifyOTP(client, otpId: otpId, code: code).status == .ok)
        }
    }

    @Test func aWrongCodeIs400NamingTheFieldAndFiveLockIt() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let otpId = try await harness.issueOTP(client).otpId
            let code = try await harness.otpCode(otpId)
            let wrong = wrongCode(for: code)
            for remaining in [4, 3, 2, 1] {
                let response = try await harness.verifyOTP(client, otpId: otpId, code: wrong)
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "OTP_INVALID")
                #expect(response.errorFields == ["code"])
                let tries = remaining == 1 ? "1 try" : "\(remaining) tries"
                #expect(try response.error["details"]?[0]?["message"] == .string("is wrong; \(tries) left"))
            }
            let fifth = try await harness.verifyOTP(client, otpId: otpId, code: wrong)
            #expect(fifth.status.code == 423)
            #expect(fifth.errorCode == "OTP_LOCKED")
            // Locked for good: the right code no longer helps.
            let right = try await harness.verifyOTP(client, otpId: otpId, code: code)
            #expect(right.status.code == 423)
            #expect(right.errorCode == "OTP_LOCKED")
            #expect(try await harness.store.otp(id: otpId)?.state == .locked)
        }
    }

    @Test func anExpiredPasscodeIs400Expired() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let otpId = try await harness.issueOTP(client).otpId
            let code = try await harness.otpCode(otpId)
            harness.clock.advance(by: 119)
            harness.clock.advance(by: 1)
            let response = try await harness.verifyOTP(client, otpId: otpId, code: code)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "OTP_EXPIRED")
            #expect(try await harness.store.otp(id: otpId)?.state == .active)
        }
    }

    @Test func oneSecondBeforeExpiryItStillVerifies() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let otpId = try await harness.issueOTP(client).otpId
            let code = try await harness.otpCode(otpId)
            harness.clock.advance(by: 119)
            #expect(try await harness.verifyOTP(client, otpId: otpId, code: code).status == .ok)
        }
    }

    @Test func perDestinationLimitsAnswer429WithRetryAfter() async throws {
        let harness = try await OTPRouteFixture.harness(
            limits: OTPIssueLimits(perDestinationPerHour: 3, minInterval: 30)
        )
        try await harness.test { client in
            #expect(try await harness.issueOTP(client).status == .accepted)
            harness.clock.advance(by: 10)
            let tooSoon = try await harness.issueOTP(client)
            #expect(tooSoon.status == .tooManyRequests)
            #expect(tooSoon.errorCode == "RATE_LIMITED")
            #expect(tooSoon.headers[.retryAfter] == "20")
            // Another destination is not held back; the same number written the same way is.
            #expect(try await harness.issueOTP(client, to: "+15550000002").status == .accepted)
            for _ in 0..<2 {
                harness.clock.advance(by: 20)
                #expect(try await harness.issueOTP(client).status == .accepted)
                harness.clock.advance(by: 10)
            }
            // Three codes in the hour (at 0, 30 and 60 s): the next one is allowed when the first leaves it.
            harness.clock.advance(by: 20)
            let hourly = try await harness.issueOTP(client)
            #expect(hourly.status == .tooManyRequests)
            #expect(hourly.headers[.retryAfter] == "\(3600 - 90)")
            harness.clock.advance(by: 3600 - 90)
            #expect(try await harness.issueOTP(client).status == .accepted)
        }
        // Refused requests stored nothing: 4 + 1 passcodes, each with one delivery.
        let status = try await harness.store.status(now: harness.clock.now())
        #expect(status.deliveries.values.reduce(0, +) == 5)
    }

    @Test func concurrentRequestsToOneDestinationCannotAllSlipUnderTheLimit() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.testLive { client in
            let port = try #require(client.port)
            // Twelve connections of their own, so the requests really overlap.
            let connections = try await (0..<12).asyncMap { _ in
                try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
            }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for http in connections {
                    group.addTask {
                        let response = try await http.send(
                            "POST",
                            "/api/v1/projects/p1/otp",
                            headers: [
                                ("Authorization", "Bearer \(APIHarness.otpToken)"),
                                ("Content-Type", "application/json"),
                            ],
                            body: Data(#"{"channel":"sms","to":"+15550000077"}"#.utf8)
                        )
                        await http.close()
                        return response.status
                    }
                }
                var all: [Int] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == 202 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count == 11, "\(statuses)")
        }
        #expect(try await harness.store.status(now: harness.clock.now()).deliveries.values.reduce(0, +) == 1)
    }

    @Test func emailLimitsIgnoreLetterCase() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            #expect(try await harness.issueOTP(client, channel: "email", to: "ann@example.com").status == .accepted)
            let shouted = try await harness.issueOTP(client, channel: "email", to: "ANN@Example.COM")
            #expect(shouted.status == .tooManyRequests)
        }
    }

    @Test(arguments: [
        ("p2", "sms", "+15550000001", "smsNotifier"),
        ("p2", "email", "ann@example.com", "emailNotifier"),
        // p3 names SMS notifier 7, which has no provider in this server.
        ("p3", "sms", "+15550000001", "smsNotifier"),
    ])
    func aProjectWithoutTheNotifierIs400NamingIt(
        project: String,
        channel: String,
        to: String,
        field: String
    )
        async throws
    {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let response = try await harness.issueOTP(client, project: project, channel: channel, to: to)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "VALIDATION_FAILED")
            #expect(response.errorFields == [field])
            #expect(try response.error["message"]?.stringValue?.hasPrefix("\(field): ") == true)
        }
        #expect(try await harness.store.status(now: harness.clock.now()).deliveries.values.reduce(0, +) == 0)
    }

    @Test(arguments: [
        (#"{"channel":"sms","to":"+15550000001","code":"123456"}"#, ["code"]),
        (#"{"channel":"sms"}"#, ["to"]),
        (#"{"to":"+15550000001"}"#, ["channel"]),
        (#"{"channel":5,"to":"+15550000001"}"#, ["channel"]),
        (#"{"channel":"fax","to":"+15550000001"}"#, ["channel"]),
        (#"{"channel":"sms","to":"555-0100"}"#, ["to"]),
        (#"{"channel":"email","to":"nobody"}"#, ["to"]),
        (#"{"channel":"sms","to":null}"#, ["to"]),
        (#"["sms"]"#, ["body"]),
        (#"{"channel":"sms","to":"+15550000001""#, ["body"]),
    ])
    func issueRefusesABadBodyNamingTheField(body: String, fields: [String]) async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let response = try await harness.call(
                client,
                .post,
                "/api/v1/projects/p1/otp",
                token: APIHarness.otpToken,
                json: body
            )
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "VALIDATION_FAILED")
            #expect(response.errorFields == fields, "\(String(buffer: response.body))")
        }
        #expect(try await harness.store.status(now: harness.clock.now()).deliveries.values.reduce(0, +) == 0)
    }

    @Test(arguments: [
        (#"{"otpId":"otp_x","code":"123456","extra":1}"#, ["extra"]),
        (#"{"otpId":"otp_x"}"#, ["code"]),
        (#"{"code":"123456"}"#, ["otpId"]),
        (#"{"otpId":"otp_x","code":123456}"#, ["code"]),
        (#"{"otpId":"otp_x","code":"12ab56"}"#, ["code"]),
        (#"{"otpId":"otp_x","code":"123"}"#, ["code"]),
        (#"{"otpId":"otp_x","code":"12345678901"}"#, ["code"]),
        (#"{"otpId":"","code":"123456"}"#, ["otpId"]),
    ])
    func verifyRefusesABadBodyNamingTheField(body: String, fields: [String]) async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let otpId = try await harness.issueOTP(client).otpId
            let response = try await harness.call(
                client,
                .post,
                "/api/v1/projects/p1/otp/verify",
                token: APIHarness.otpToken,
                json: body.replacingOccurrences(of: "otp_x", with: otpId)
            )
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "VALIDATION_FAILED")
            #expect(response.errorFields == fields, "\(String(buffer: response.body))")
            // A malformed attempt is not a try.
            #expect(try await harness.store.otp(id: otpId)?.failedAttempts == 0)
        }
    }

    @Test func unknownProjectsAndPasscodesAre404() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let issue = try await harness.issueOTP(client, project: "nope")
            #expect(issue.status == .notFound)
            #expect(issue.errorCode == "NOT_FOUND")
            let otpId = try await harness.issueOTP(client).otpId
            let code = try await harness.otpCode(otpId)
            #expect(try await harness.verifyOTP(client, otpId: "otp_unknown", code: code).status == .notFound)
            // Another project's passcode is not found either, and costs it no try.
            #expect(try await harness.verifyOTP(client, project: "p2", otpId: otpId, code: code).status == .notFound)
            #expect(try await harness.verifyOTP(client, otpId: otpId, code: code).status == .ok)
        }
    }

    @Test func bothRoutesNeedTheOTPScope() async throws {
        let harness = try await OTPRouteFixture.harness()
        let jwt = try await harness.userJWT("u1")
        try await harness.test { client in
            for path in ["/api/v1/projects/p1/otp", "/api/v1/projects/p1/otp/verify"] {
                let anonymous = try await harness.call(client, .post, path, json: "{}")
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.wwwAuthenticate] != nil)
                for token in [APIHarness.writerToken, APIHarness.readerToken, jwt] {
                    let refused = try await harness.call(client, .post, path, token: token, json: "{}")
                    #expect(refused.status == .forbidden, "\(path)")
                    #expect(refused.errorCode == "AUTH_FORBIDDEN")
                }
            }
            #expect(try await harness.issueOTP(client, token: APIHarness.adminToken).status == .accepted)
        }
    }

    @Test func aNonJSONBodyIs415() async throws {
        let harness = try await OTPRouteFixture.harness()
        try await harness.test { client in
            let response = try await harness.call(
                client,
                .post,
                "/api/v1/projects/p1/otp",
                token: APIHarness.otpToken,
                json: "channel=sms",
                headers: [.contentType: "application/x-www-form-urlencoded"]
            )
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test func withoutASecretTheRoutesAnswer503NotConfigured() async throws {
        let harness = try await OTPRouteFixture.harness(enabled: false)
        try await harness.test { client in
            let issue = try await harness.issueOTP(client)
            #expect(issue.status == .serviceUnavailable)
            #expect(issue.errorCode == "OTP_NOT_CONFIGURED")
            let verify = try await harness.verifyOTP(client, otpId: "otp_x", code: "123456")
            #expect(verify.status == .serviceUnavailable)
            #expect(verify.errorCode == "OTP_NOT_CONFIGURED")
        }
    }

    /// Ten-digit codes, so that a chance match against ids, timestamps or counters is practically impossible.
    @Test func theCodeNeverAppearsInAnswersLogsExplainOrDeliveryLists() async throws {
        let harness = try await OTPRouteFixture.harness(codeLength: 10)
        let seen = TextLedger()
        try await harness.test { client in
            var otpIds: [String] = []
            for (channel, to) in [("sms", "+15550000009"), ("email", "leak@example.com")] {
                let issued = try await harness.issueOTP(client, channel: channel, to: to)
                seen.add(issued)
                otpIds.append(try issued.otpId)
            }
            for otpId in otpIds {
                let code = try await harness.otpCode(otpId)
                #expect(code.count == 10)
                seen.add(try await harness.verifyOTP(client, otpId: otpId, code: wrongCode(for: code)))
                seen.add(try await harness.verifyOTP(client, otpId: otpId, code: code))
                seen.add(try await harness.verifyOTP(client, otpId: otpId, code: code))
                seen.add(try await harness.issueOTP(client, channel: "sms", to: "+15550000009"))
                let admin = APIHarness.adminToken
                seen.add(try await harness.call(client, .get, "/api/v1/events/evt_\(otpId)", token: admin))
                seen.add(try await harness.call(client, .get, "/api/v1/events?key=otp_code", token: admin))
                seen.add(try await harness.call(client, .get, "/api/v1/deliveries", token: admin))
                // What `herald explain` and `herald deliveries list` print for the same deliveries.
                let record = try #require(try await harness.store.eventRecord(id: "evt_" + otpId))
                for delivery in record.deliveries {
                    seen.add(Commands.describeLine(delivery))
                    seen.add(String(decoding: try Commands.describeJSON(delivery).canonicalData(), as: UTF8.self))
                }
                seen.add(String(decoding: try JSONEncoder().encode(record.event), as: UTF8.self))
            }
            for otpId in otpIds {
                let code = try await harness.otpCode(otpId)
                for text in seen.all + harness.logs.all {
                    #expect(!text.contains(code), "the code \(otpId) leaked into: \(text.prefix(300))")
                }
            }
        }
        #expect(!harness.logs.all.isEmpty, "the requests were logged (refusals at info)")
    }
}

/// Every text a test saw (answers with their headers, command output), for leak checks.
final class TextLedger: Sendable {
    private let texts = Mutex<[String]>([])

    func add(_ text: String) { texts.withLock { $0.append(text) } }

    func add(_ response: TestResponse) {
        let headers = response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
        add(headers + "\n" + String(buffer: response.body))
    }

    var all: [String] { texts.withLock { $0 } }
}
