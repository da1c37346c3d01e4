import Foundation
import HTTPTypes
import HeraldCore
import HeraldTesting
import HummingbirdTesting
import Testing

@testable import HeraldAPI
@testable import HeraldApp

/// Passcodes through the daemon's own composition (`Daemon.buildServices`: the OTP service over the send stage's
/// providers, the API built by `buildApplication`) on a manual clock, with the send stage stepped by hand and a
/// real Twilio-shaped HTTP sink: a code sent in time verifies with what the sink received; one whose delivery
/// comes due only after the expiry is dropped as `expired`, never sent, and the API shows why.
@Suite("OTP through the daemon's wiring", .serialized)
struct OTPDaemonTests {
    final class Fixture: Sendable {
        let clock = ManualClock()
        let sink: FakeVendorServer
        let components: DaemonComponents
        let dependencies: APIDependencies
        let directory: URL

        init() async throws {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("herald-otp-daemon-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            sink = try await FakeVendorServer.start { request in
                request.path.hasSuffix("/Messages.json")
                    ? .json(201, #"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#) : .status(404)
            }
            let yaml = """
                server: { listen: "127.0.0.1:0" }
                store: { sqlite: { path: "herald.db" } }
                auth:
                  tokens:
                    - { name: app, sha256: "\(Self.tokenDigest)", scopes: ["otp:write", "events:read"] }
                notifiers:
                  - id: 5
                    name: twilio
                    channel: sms
                    sms:
                      apiURL: "\(sink.baseURL)"
                      accountSid: "AC0123456789abcdef0123456789abcdef"
                      authToken: "${TWILIO_TOKEN}"
                      from: "+15550001111"
                    rateLimit: { perSecond: 0 }
                otp: { secret: "${OTP_KEY}", minIntervalSeconds: 0 }
                """
            let loaded = try ConfigurationLoader.load(
                yaml: yaml,
                baseDirectory: directory,
                environment: ["TWILIO_TOKEN": "twilio-test-token", "OTP_KEY": "otp-daemon-test-key-0123456789"]
            )
            let store = try await Daemon.openStore(loaded)
            let document = try DirectoryDocument.parse(
                Data(
                    """
                    {"organizations": [{"id": "acme", "slug": "acme", "name": "Acme"}],
                     "projects": [{"id": "p1", "organization": "acme", "slug": "backend", "name": "Backend",
                                   "settings": {"smsNotifier": 5, "otpCodeLength": 7, "otpTtlSeconds": 60}}]}
                    """.utf8
                ),
                catalog: Catalog()
            )
            try await store.importDirectory(document, now: clock.now())
            components = try Daemon.buildServices(
                loaded: loaded,
                configPath: "/dev/null",
                store: store,
                output: .capture(),
                clock: clock
            )
            dependencies = try #require(components.api)
        }

        static let token = "otp-daemon-test-token"
        static var tokenDigest: String {
            APIHarness.digest(token).map { String(format: "%02x", $0) }.joined()
        }

        /// Claims what is due, waits for every transfer and writes the outcomes (the send stage, by hand).
        func step() async throws {
            try await components.send.claimAndDispatch(limit: 16)
            var spins = 0
            while components.send.inflightCount > 0 {
                spins += 1
                if spins > 20_000 { throw CancellationError() }
                try await Task.sleep(for: .milliseconds(1))
            }
            await components.send.flush()
        }

        func close() async throws {
            components.transport.shutdown()
            try await sink.shutdown()
            try await components.store.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func post(_ client: any TestClientProtocol, _ path: String, _ json: String) async throws -> TestResponse {
        try await client.send(.post, path, token: Fixture.token, json: json)
    }

    @Test func aCodeSentInTimeVerifiesAndOneDueAfterItsExpiryIsDroppedNotSentLate() async throws {
        let fixture = try await Fixture()
        let application = APIApplication.buildApplication(fixture.dependencies, host: "127.0.0.1", port: 0)
        try await application.test(.router) { client in
            // In time: sent on the first step, the code read from the sink's request verifies.
            let first = try await Self.post(
                client,
                "/api/v1/projects/p1/otp",
                #"{"channel":"sms","to":"+15550000101"}"#
            )
            #expect(first.status == .accepted)
            let firstId = try first.otpId
            fixture.clock.advance(by: 59)
            try await fixture.step()
            let requests = fixture.sink.requests()
            #expect(requests.count == 1)
            let body = OutboxRouterForms.field("Body", in: try #require(requests.first).bodyText) ?? ""
            let code = String(try #require(body.firstMatch(of: /\b([0-9]{7})\b is your/)).1)
            let verified = try await Self.post(
                client,
                "/api/v1/projects/p1/otp/verify",
                #"{"otpId":"\#(firstId)","code":"\#(code)"}"#
            )
            #expect(verified.status == .ok, "\(String(buffer: verified.body))")

            // Too late: nothing claimed it before its expiry, so it is dropped and recorded, never sent.
            let second = try await Self.post(
                client,
                "/api/v1/projects/p1/otp",
                #"{"channel":"sms","to":"+15550000102"}"#
            )
            let secondId = try second.otpId
            fixture.clock.advance(by: 60)
            try await fixture.step()
            #expect(fixture.sink.requests().count == 1, "the late code was never sent")
            let explained = try await client.send(.get, "/api/v1/events/evt_\(secondId)", token: Fixture.token)
            let delivery = try #require(try explained.data["deliveries"]?[0])
            #expect(delivery["state"] == .string("dead"), "\(delivery)")
            #expect(delivery["lastError"]?.stringValue?.contains("expired") == true, "\(delivery)")
            let late = try await Self.post(
                client,
                "/api/v1/projects/p1/otp/verify",
                #"{"otpId":"\#(secondId)","code":"0000000"}"#
            )
            #expect(late.errorCode == "OTP_EXPIRED")
        }
        try await fixture.close()
    }
}
