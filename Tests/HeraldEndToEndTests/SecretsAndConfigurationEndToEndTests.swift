import Foundation
import HeraldTesting
import Testing

/// One configuration mistake and the path its error must name.
struct BadConfiguration: Sendable, CustomTestStringConvertible {
    let name: String
    let path: String
    let apply: @Sendable (HeraldConfig) -> HeraldConfig

    var testDescription: String { name }

    static let all: [BadConfiguration] = [
        BadConfiguration(name: "missing Slack token file", path: "notifiers[0].slack.tokenFile") {
            var config = $0
            config.slackTokenFile = "secrets/no-such-token"
            return config
        },
        BadConfiguration(name: "worker.concurrency: 0", path: "worker.concurrency") {
            $0.with(worker: "concurrency", "0")
        },
        BadConfiguration(name: "unknown key", path: "worker.concurency") {
            $0.with(worker: "concurency", "4")
        },
    ]
}

extension EndToEndTests {
    @Test("no secret leaks into logs, `deliveries list` or `explain`", .timeLimit(.minutes(2)))
    func secretsDoNotLeak() async throws {
        let secretPath = "SECRETHOOKPATH"
        let server = try await FakeVendorServer.start { request in
            if request.path.hasSuffix("/chat.postMessage") {
                return .json(200, #"{"ok":false,"error":"invalid_auth"}"#)
            }
            return .status(404, body: "no_service")
        }
        // A port nobody listens on: connection refused, a retryable failure.
        let closed = try await FakeVendorServer.start { _ in .ok }
        let closedPort = closed.port
        try await closed.shutdown()

        var config = HeraldConfig()
        config.slackAPIURL = "\(server.baseURL)/api"
        config.slackRetry = "{ maxAttempts: 2 }"
        config.webhookRetry = "{ maxAttempts: 2 }"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let daemon = try await env.startDaemon()

        // Slack treats only https:// addresses as incoming webhooks (SPEC §14): this one reaches the plain-HTTP
        // fake server, whose answer to a TLS handshake is not TLS (a transport failure, with the URL in hand).
        let hook = "https://127.0.0.1:\(server.port)/services/T000/B000/\(secretPath)"
        let ids = try await env.enqueueAccepted(
            EventJSON.lines([
                EventJSON.object(id: "leak-hook", recipients: [("slack", hook)]),
                EventJSON.object(id: "leak-api", recipients: [("slack", "C0123456789")]),
                EventJSON.object(id: "leak-refused", recipients: [("webhook", "http://127.0.0.1:\(closedPort)/hook")]),
            ])
        )
        try #require(ids == ["leak-hook", "leak-api", "leak-refused"])
        try await env.waitForStatus("all three deliveries settled", timeout: .seconds(30), daemon: daemon) {
            $0.totalDeliveries == 3 && $0.unsettled == 0
        }

        // The test means something only if the daemon held the secrets: the token went to chat.postMessage.
        let apiRequests = server.requests().filter { $0.path.hasSuffix("/chat.postMessage") }
        #expect(apiRequests.count == 1)
        #expect(apiRequests.first?.header("Authorization") == "Bearer \(HeraldConfig.slackToken)")

        var outputs: [(String, String)] = [("daemon log", env.allDaemonOutput())]
        for arguments in [
            ["deliveries", "list", "--format", "json"], ["deliveries", "list"],
            ["deliveries", "list", "--state", "dead", "--format", "json"], ["status"],
        ] {
            let result = try await env.run(arguments)
            #expect(result.exitCode == 0, "\(arguments): \(result)")
            outputs.append((arguments.joined(separator: " "), result.stdout + result.stderr))
        }
        for id in ids {
            for format in [["--format", "json"], []] {
                let result = try await env.run(["explain", id] + format)
                #expect(result.exitCode == 0, "explain \(id): \(result)")
                outputs.append(("explain \(id) \(format.joined(separator: " "))", result.stdout + result.stderr))
            }
        }
        let list = try #require(outputs.first { $0.0 == "deliveries list --format json" }?.1)
        #expect(list.components(separatedBy: "\"lastError\":\"").count - 1 == 3, "each failure kept its error: \(list)")

        let secrets = [secretPath, HeraldConfig.slackToken, "SECRET-TOKEN", HeraldConfig.signingSecret]
        for (source, text) in outputs {
            for secret in secrets {
                #expect(!text.contains(secret), "\(source) leaks \(secret):\n\(leakContext(text, secret))")
            }
        }
        try await server.shutdown()
    }

    @Test("a bad configuration: check-config and serve refuse it, naming the path", arguments: BadConfiguration.all)
    func badConfiguration(_ bad: BadConfiguration) async throws {
        let env = try HeraldEnvironment(config: bad.apply(HeraldConfig()))
        defer { env.close() }
        let check = try await env.run(["check-config"])
        #expect(check.exitCode != 0, "\(check)")
        let line = check.stderr.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("herald:") && !line.contains("\n"), "one line: \(line)")
        #expect(line.contains(bad.path), "check-config names \(bad.path): \(line)")

        let daemon = try env.launchDaemon()
        let code = await daemon.waitForExit(timeout: .seconds(15))
        #expect(code != nil, "serve must refuse to start, but it is still running")
        #expect(code != 0)
        #expect(!daemon.output.contains("msg=\"herald ready\""))
        #expect(daemon.output.contains(bad.path), "serve names \(bad.path): \(daemon.output)")
    }
}

extension EndToEndTests {
    @Test(
        "SIGHUP applies a valid configuration and refuses a broken one, keeping the daemon up",
        .timeLimit(.minutes(1))
    )
    func reloadOnSIGHUP() async throws {
        var config = HeraldConfig()
        config.logLevel = "info"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let daemon = try await env.startDaemon()

        // A valid change: the log level goes to debug.
        config.logLevel = "debug"
        try env.write(config)
        daemon.signal(SIGHUP)
        try await eventually("the reload is logged", timeout: .seconds(10)) {
            daemon.output.contains("msg=\"configuration reloaded\"")
        }

        // A broken file: refused with its path, the running configuration stays and the daemon keeps working.
        try env.write(config.with(worker: "concurrency", "0"))
        daemon.signal(SIGHUP)
        try await eventually("the refusal is logged", timeout: .seconds(10)) {
            daemon.output.contains("configuration reload refused") && daemon.output.contains("worker.concurrency")
        }
        #expect(await daemon.waitForExit(timeout: .milliseconds(300)) == nil, "the daemon must keep running")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(15)) == 0)
    }
}

/// The line around the first occurrence of `secret`, for the failure message.
private func leakContext(_ text: String, _ secret: String) -> String {
    text.split(separator: "\n").first { $0.contains(secret) }.map { String($0.prefix(400)) } ?? ""
}
