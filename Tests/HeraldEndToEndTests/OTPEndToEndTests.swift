import Foundation
import HeraldTesting
import Testing

extension EndToEndTests {
    /// One-time passcodes through the real `herald serve`: the code leaves over a real socket (a Twilio-shaped
    /// HTTP sink for SMS, an SMTP sink for email), is read back from what the sink received, and verifies once
    /// through the API; it never appears in the daemon's output, `herald explain` or `herald deliveries list`.
    @Test(
        "OTP: issued over the API, delivered to the sinks, verified with the code they received",
        .timeLimit(.minutes(2))
    )
    func otpIssuedDeliveredAndVerified() async throws {
        let http = try await FakeVendorServer.start { request in
            request.path.hasSuffix("/Messages.json")
                ? .json(201, #"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#) : .status(404)
        }
        let smtp = try await FakeSMTPServer.start()
        let env = try HeraldEnvironment()
        defer { env.close() }
        let otpSecret = "e2e-otp-SECRET-key-0123456789abcdef"
        try env.writeSecret("otp-secret", otpSecret)
        try env.writeSecret("twilio-token", "twilio-e2e-AUTH-TOKEN")
        try env.writeConfig(yaml: OTPEndToEnd.configuration(http: http.baseURL, smtpPort: smtp.port))
        try await env.importDirectory(Data(OTPEndToEnd.directory.utf8))
        let (daemon, port) = try await Self.startAPIDaemon(env)
        let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
        var answers: [String] = []

        // SMS: the code arrives at the Twilio sink as the form's Body.
        let sms = try await OTPEndToEnd.post(
            client,
            "/api/v1/projects/p1/otp",
            #"{"channel":"sms","to":"+15550000042"}"#
        )
        answers.append(sms.text)
        #expect(sms.status == 202, "\(sms.text)")
        let smsId = try #require(sms.data?["otpId"] as? String)
        try await eventually("the SMS reaches the sink", timeout: .seconds(20)) { http.requestCount >= 1 }
        let form = try #require(http.requests().first).bodyText
        let smsCode = try OTPEndToEnd.code(in: OTPEndToEnd.formField("Body", in: form) ?? "")
        #expect(smsCode.count == 8)
        #expect(OTPEndToEnd.formField("To", in: form) == "+15550000042")

        // Email: the code arrives over SMTP.
        let mail = try await OTPEndToEnd.post(
            client,
            "/api/v1/projects/p1/otp",
            #"{"channel":"email","to":"otp-user@example.com"}"#
        )
        answers.append(mail.text)
        #expect(mail.status == 202, "\(mail.text)")
        let mailId = try #require(mail.data?["otpId"] as? String)
        try await eventually("the mail reaches the SMTP sink", timeout: .seconds(20)) { !smtp.messages().isEmpty }
        let message = try #require(smtp.messages().first)
        #expect(message.envelopeTo == ["otp-user@example.com"])
        let mailCode = try OTPEndToEnd.code(in: message.text.replacingOccurrences(of: "=\r\n", with: ""))

        // A wrong code first, then the right one once; the second time it is used up.
        let wrong = String(smsCode.map { $0 == "0" ? "1" : "0" })
        let refused = try await OTPEndToEnd.verify(client, smsId, wrong)
        answers.append(refused.text)
        #expect(refused.status == 400 && refused.errorCode == "OTP_INVALID", "\(refused.text)")
        for (otpId, code) in [(smsId, smsCode), (mailId, mailCode)] {
            let verified = try await OTPEndToEnd.verify(client, otpId, code)
            answers.append(verified.text)
            #expect(verified.status == 200, "\(verified.text)")
            #expect((verified.data?["verified"] as? Bool) == true)
            let again = try await OTPEndToEnd.verify(client, otpId, code)
            answers.append(again.text)
            #expect(again.status == 400 && again.errorCode == "OTP_INVALID")
        }
        // The next code to the same phone within 30 s is refused with Retry-After.
        let limited = try await OTPEndToEnd.post(
            client,
            "/api/v1/projects/p1/otp",
            #"{"channel":"sms","to":"+15550000042"}"#
        )
        #expect(limited.status == 429)
        #expect(limited.header("Retry-After").flatMap(Int.init).map { (1...30).contains($0) } == true)
        await client.close()

        let status = try await env.waitForStatus("both delivered", timeout: .seconds(20), daemon: daemon) {
            $0.deliveries("delivered") == 2
        }
        #expect(status.totalDeliveries == 2)
        var printed = answers
        for otpId in [smsId, mailId] {
            let explained = try await env.run(["explain", "evt_" + otpId])
            #expect(explained.exitCode == 0, "\(explained)")
            printed.append(explained.stdout + explained.stderr)
        }
        let listed = try await env.run(["deliveries", "list", "--state", "delivered"])
        #expect(listed.exitCode == 0 && listed.stdout.contains("sms"), "\(listed)")
        printed.append(listed.stdout + listed.stderr)
        printed.append(daemon.output)
        for code in [smsCode, mailCode] {
            for text in printed {
                #expect(!text.contains(code), "the code leaked into: \(text.suffix(400))")
            }
        }
        #expect(!daemon.output.contains(otpSecret))
        try await http.shutdown()
        try await smtp.shutdown()
    }
}

extension EndToEndTests {
    /// Several instances on one PostgreSQL database share the passcodes, their tries and their limits: a code
    /// issued through one instance verifies through another, and the per-destination limit holds across them.
    @Test("OTP on PostgreSQL: issued through one instance, verified through another", .timeLimit(.minutes(2)))
    func otpAcrossInstancesOnPostgres() async throws {
        try await PostgresServerLock.shared.sharing { try await self.otpAcrossInstancesOnPostgresBody() }
    }

    private func otpAcrossInstancesOnPostgresBody() async throws {
        guard PostgresServer.isAvailable, let server = PostgresServer.current else { return }
        let http = try await FakeVendorServer.start { request in
            request.path.hasSuffix("/Messages.json")
                ? .json(201, #"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#) : .status(404)
        }
        let env = try HeraldEnvironment()
        defer { env.close() }
        try env.writeSecret("otp-secret", "e2e-otp-SECRET-key-0123456789abcdef")
        try env.writeSecret("twilio-token", "twilio-e2e-AUTH-TOKEN")
        let database = try server.createDatabase()
        try env.writeConfig(
            yaml: OTPEndToEnd.configuration(
                http: http.baseURL,
                smtpPort: 9,
                store: server.storeLines(database: database)
            )
        )
        try await env.importDirectory(Data(OTPEndToEnd.directory.utf8))
        let (first, firstPort) = try await Self.startAPIDaemon(env)
        let (second, secondPort) = try await Self.startAPIDaemon(env)
        let one = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: firstPort)
        let other = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: secondPort)

        let issued = try await OTPEndToEnd.post(
            one,
            "/api/v1/projects/p1/otp",
            #"{"channel":"sms","to":"+15550000043"}"#
        )
        #expect(issued.status == 202, "\(issued.text)")
        let otpId = try #require(issued.data?["otpId"] as? String)
        try await eventually("the SMS reaches the sink", timeout: .seconds(30)) { http.requestCount >= 1 }
        let form = try #require(http.requests().first).bodyText
        let code = try OTPEndToEnd.code(in: OTPEndToEnd.formField("Body", in: form) ?? "")

        let wrong = try await OTPEndToEnd.verify(other, otpId, String(code.map { $0 == "0" ? "1" : "0" }))
        #expect(wrong.status == 400 && wrong.errorCode == "OTP_INVALID", "\(wrong.text)")
        #expect(wrong.text.contains("4 tries left"), "\(wrong.text)")
        let verified = try await OTPEndToEnd.verify(other, otpId, code)
        #expect(verified.status == 200, "\(verified.text)")
        let again = try await OTPEndToEnd.verify(one, otpId, code)
        #expect(again.status == 400 && again.errorCode == "OTP_INVALID", "\(again.text)")
        // The 30 s interval of the destination holds on the other instance too.
        let limited = try await OTPEndToEnd.post(
            other,
            "/api/v1/projects/p1/otp",
            #"{"channel":"sms","to":"+15550000043"}"#
        )
        #expect(limited.status == 429, "\(limited.text)")
        await one.close()
        await other.close()
        try await eventually("delivered once", timeout: .seconds(30)) { http.requestCount == 1 }
        #expect(http.requestCount == 1, "one passcode, one SMS, whichever instance sent it")
        for daemon in [first, second] { #expect(!daemon.output.contains(code), "the code leaked into the log") }
        try await http.shutdown()
    }
}

/// The configuration, directory and HTTP helpers of the OTP end-to-end test.
enum OTPEndToEnd {
    struct Answer {
        var status: Int
        var text: String
        var headers: [(name: String, value: String)]

        var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] }
        var data: [String: Any]? { object?["data"] as? [String: Any] }
        var errorCode: String? { (object?["error"] as? [String: Any])?["code"] as? String }

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    static func post(_ client: KeepAliveHTTPClient, _ path: String, _ body: String) async throws -> Answer {
        let response = try await client.send(
            "POST",
            path,
            headers: [("Authorization", "Bearer \(HeraldConfig.apiToken)"), ("Content-Type", "application/json")],
            body: Data(body.utf8)
        )
        return Answer(
            status: response.status,
            text: String(decoding: response.body, as: UTF8.self),
            headers: response.headers
        )
    }

    static func verify(_ client: KeepAliveHTTPClient, _ otpId: String, _ code: String) async throws -> Answer {
        try await post(client, "/api/v1/projects/p1/otp/verify", #"{"otpId":"\#(otpId)","code":"\#(code)"}"#)
    }

    /// The digits before "is your … verification code", as a person reads them.
    static func code(in text: String) throws -> String {
        let match = try #require(text.firstMatch(of: /\b([0-9]{4,10})\b is your/), "no code in: \(text.prefix(600))")
        return String(match.1)
    }

    static func formField(_ name: String, in form: String) -> String? {
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.first == name, parts.count == 2 {
                return parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
        }
        return nil
    }

    static let directory = """
        {"organizations": [{"id": "acme", "slug": "acme", "name": "Acme"}],
         "projects": [{"id": "p1", "organization": "acme", "slug": "backend", "name": "Backend",
                       "settings": {"smsNotifier": 5, "emailNotifier": 1, "otpCodeLength": 8, "otpTtlSeconds": 300}}]}
        """

    static func configuration(
        http: String,
        smtpPort: Int,
        store: [String] = ["  sqlite:", "    path: \"var/herald.db\""]
    ) -> String {
        """
        server:
          listen: "127.0.0.1:0"
        auth:
          tokens:
            - name: e2e
              sha256: "55cdad286db1bc0c9be20d9c32c17219d86c3ed03258cf651dc66e0aae60220b"
              scopes: ["otp:write", "events:read"]
        store:
        \(store.joined(separator: "\n"))
        worker:
          concurrency: 16
          leaseSeconds: 10
        log:
          level: debug
          format: logfmt
        notifiers:
          - id: 1
            name: smtp-local
            channel: email
            email:
              url: "smtp://127.0.0.1:\(smtpPort)"
              allowInsecure: true
              from: "Herald <notify@example.com>"
            rateLimit: { perSecond: 0 }
          - id: 5
            name: twilio
            channel: sms
            sms:
              apiURL: "\(http)"
              accountSid: "AC0123456789abcdef0123456789abcdef"
              authTokenFile: "secrets/twilio-token"
              from: "+15550001111"
            rateLimit: { perSecond: 0 }
        otp:
          secretFile: "secrets/otp-secret"
          perDestinationPerHour: 5
          minIntervalSeconds: 30

        """
    }
}
