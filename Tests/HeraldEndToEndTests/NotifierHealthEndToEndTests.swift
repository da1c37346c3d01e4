import Foundation
import HeraldTesting
import Testing

extension EndToEndTests {
    /// The decoded `data` of a JSON answer.
    static func data(_ response: KeepAliveHTTPClient.Response) throws -> Any? {
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        return object?["data"]
    }

    /// `GET /api/v1/notifiers`, as the health object of each notifier by id.
    static func notifierHealth(_ client: KeepAliveHTTPClient) async throws -> [Int: [String: Any]] {
        let response = try await client.send(
            "GET",
            "/api/v1/notifiers",
            headers: [("Authorization", "Bearer \(HeraldConfig.apiToken)")]
        )
        #expect(response.status == 200)
        var health: [Int: [String: Any]] = [:]
        for notifier in try data(response) as? [[String: Any]] ?? [] {
            if let id = notifier["id"] as? Int { health[id] = notifier["health"] as? [String: Any] }
        }
        return health
    }

    @Test("GET /notifiers reports a Retry-After pause with its end and the redacted error; /readyz stays ready")
    func notifierHealthShowsAPause() async throws {
        let sink = try await FakeVendorServer.start(recordRequests: false) { _ in .status(429, retryAfter: "300") }
        var config = HeraldConfig()
        config.apiListen = "127.0.0.1:0"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let (daemon, port) = try await Self.startAPIDaemon(env)
        let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
        let ready = try await client.send("GET", "/readyz")
        #expect(ready.status == 200, "\(String(decoding: ready.body, as: UTF8.self))")
        let report = try Self.data(ready) as? [String: Any]
        #expect(report?["worker"] as? Bool == true)
        #expect(report?["store"] as? Bool == true)
        let before = try await Self.notifierHealth(client)
        #expect(before[6]?["state"] as? String == "ok")

        let hook = "\(sink.baseURL)/hooks/T0SECRET/B0SECRET"
        let body = EventJSON.line(EventJSON.object(id: "paused-1", text: "x", recipients: [("webhook", hook)]))
        let posted = try await Self.post(client, body)
        #expect(posted.status == 202)
        let sent = Date()
        var health: [Int: [String: Any]] = [:]
        try await eventually("the webhook notifier reads as paused", timeout: .seconds(20)) {
            health = (try? await Self.notifierHealth(client)) ?? [:]
            return health[6]?["state"] as? String == "paused"
        }
        let webhook = try #require(health[6])
        let until = try #require((webhook["until"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
        #expect(until.timeIntervalSince(sent) > 250 && until.timeIntervalSince(sent) < 350, "until \(until)")
        let lastError = try #require(webhook["lastError"] as? String)
        #expect(lastError.contains("rateLimited 429"), "\(lastError)")
        #expect(webhook["destinations"] as? Int == 1)
        #expect(health[2]?["state"] as? String == "ok")
        let raw = try await client.send(
            "GET",
            "/api/v1/notifiers",
            headers: [("Authorization", "Bearer \(HeraldConfig.apiToken)")]
        )
        #expect(!String(decoding: raw.body, as: UTF8.self).contains("SECRET"), "the hook's path reached the API")
        // A paused destination does not make the daemon unready: every other destination still delivers.
        #expect(try await client.send("GET", "/readyz").status == 200)
        await client.close()
        #expect(daemon.isRunning)
        try await sink.shutdown()
    }

    @Test("a notifier whose secret is absent starts as notConfigured, in /readyz and GET /notifiers")
    func notConfiguredNotifierIsReported() async throws {
        var config = HeraldConfig()
        config.apiListen = "127.0.0.1:0"
        config.secretsWhenMissing = "notConfigured"
        config.slackTokenFile = "secrets/absent-slack-token"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let (daemon, port) = try await Self.startAPIDaemon(env)
        let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
        let ready = try await client.send("GET", "/readyz")
        #expect(ready.status == 200)
        let report = try Self.data(ready) as? [String: Any]
        #expect(report?["notConfigured"] as? [Int] == [2])
        #expect(report?["worker"] as? Bool == true)
        let health = try await Self.notifierHealth(client)
        #expect(health[2]?["state"] as? String == "notConfigured")
        #expect((health[2]?["lastError"] as? String)?.contains("notifiers[0].slack.token") == true)
        #expect(health[6]?["state"] as? String == "ok")
        await client.close()
        #expect(daemon.isRunning)
    }
}
