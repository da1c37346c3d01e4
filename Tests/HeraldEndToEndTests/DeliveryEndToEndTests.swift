import Foundation
import HeraldTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// End-to-end tests: the real `herald` executable as a separate process, a local fake vendor server,
/// a temporary work directory per test. One suite, serialized, so the heavy runs never overlap.
@Suite("herald end to end (real executable)", .serialized)
struct EndToEndTests {}

extension EndToEndTests {
    @Test("500 events reach the sink exactly once each, with Herald's trace headers", .timeLimit(.minutes(2)))
    func fiveHundredEventsDeliveredOnce() async throws {
        let server = try await FakeVendorServer.start { _ in .ok }
        let env = try HeraldEnvironment(config: HeraldConfig())
        defer { env.close() }
        let daemon = try await env.startDaemon()

        let objects = (0..<500).map { n in
            EventJSON.object(text: "notice \(n)", recipients: [("webhook", "\(server.baseURL)/hook/\(n % 10)")])
        }
        let ids = try await env.enqueueAccepted(EventJSON.lines(objects))
        #expect(ids.count == 500)
        #expect(Set(ids).count == 500)

        try await eventually("500 requests at the sink (got \(server.requestCount))", timeout: .seconds(45)) {
            server.requestCount >= 500
        }
        let status = try await env.waitForStatus("500 delivered", timeout: .seconds(15), daemon: daemon) {
            $0.deliveries("delivered") == 500
        }
        #expect(status.deliveries("dead") == 0)
        #expect(status.events["fannedOut"] == 500)

        let requests = server.requests()
        #expect(requests.count == 500, "every delivery sent once")
        let eventIDs = requests.compactMap { $0.header("X-Herald-Event-Id") }
        #expect(eventIDs.count == 500)
        #expect(Set(eventIDs) == Set(ids), "the sink saw exactly the enqueued event ids")
        let deliveryIDs = requests.compactMap { $0.header("X-Herald-Delivery-Id") }
        #expect(deliveryIDs.count == 500)
        #expect(Set(deliveryIDs).count == 500)
        let position = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($0.element, $0.offset) })
        var misrouted: [String] = []
        let notPOST = requests.filter { $0.method != "POST" }
        #expect(notPOST.isEmpty, "methods: \(Set(notPOST.map(\.method)))")
        let badAgents = requests.compactMap { $0.header("User-Agent") }.filter { !$0.hasPrefix("Herald/") }
        #expect(requests.allSatisfy { $0.header("User-Agent") != nil }, "every request has a User-Agent")
        #expect(badAgents.isEmpty, "User-Agent: \(Set(badAgents))")
        let unsigned = requests.filter { $0.header("X-Herald-Signature")?.hasPrefix("sha256=") != true }
        #expect(unsigned.isEmpty, "\(unsigned.count) requests without X-Herald-Signature: sha256=…")
        for request in requests {
            if let id = request.header("X-Herald-Event-Id"), let n = position[id], request.path != "/hook/\(n % 10)" {
                misrouted.append("\(id) → \(request.path)")
            }
        }
        #expect(misrouted.isEmpty, "events sent to the wrong destination: \(misrouted.prefix(5))")
        #expect(daemon.isRunning)
        try await server.shutdown()
    }

    @Test(
        "kill -9 in the middle of 5,000 events, restart: every event delivered, few duplicates",
        .timeLimit(.minutes(3))
    )
    func killNineAndRestart() async throws {
        let total = 5000
        let ledger = EventLedger()
        let killSwitch = KillSwitch()
        let server = try await FakeVendorServer.start(recordRequests: false) { request in
            let count = ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            if count == 1000 { killSwitch.fire() }
            return .delay(0.002, .ok)
        }
        let config = HeraldConfig()
            .with(worker: "concurrency", "256")
            .with(worker: "batchSize", "256")
            .with(worker: "leaseSeconds", "5")
            .with(worker: "maxHostConnections", "32")
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let objects = (0..<total).map { n in
            EventJSON.object(text: "bulk \(n)", recipients: [("webhook", "\(server.baseURL)/hook/\(n % 10)")])
        }
        let ids = try await env.enqueueAccepted(EventJSON.lines(objects))
        try #require(ids.count == total)

        let first = try env.launchDaemon()
        killSwitch.arm(pid: first.pid)
        try await first.waitUntilReady(timeout: .seconds(20))
        try await eventually("1,000 requests at the sink (got \(ledger.all.count))", timeout: .seconds(60)) {
            ledger.all.count >= 1000
        }
        if !killSwitch.hasFired { killSwitch.fire() }
        let code = await first.waitForExit(timeout: .seconds(10))
        #expect(code == 128 + SIGKILL, "the first daemon died of SIGKILL")
        let afterCrash = try await env.status()
        let seenBeforeRestart = ledger.all.count
        print("kill -9 after \(seenBeforeRestart) requests; store at the crash: \(afterCrash)")
        #expect(afterCrash.totalEvents == total, "every accepted event is still in the store")

        let second = try await env.startDaemon()
        try await eventually(
            "\(total) distinct event ids at the sink (got \(ledger.distinctCount))",
            timeout: .seconds(90),
            every: .milliseconds(50)
        ) { ledger.distinctCount >= total }
        try await env.waitForStatus("\(total) delivered", timeout: .seconds(30), daemon: second) {
            $0.deliveries("delivered") == total
        }
        let seen = ledger.all
        let distinct = Set(seen)
        let duplicates = seen.count - distinct.count
        print("kill -9: \(seen.count) requests for \(distinct.count) events, \(duplicates) duplicates")
        #expect(distinct == Set(ids), "every accepted event delivered")
        #expect(duplicates <= 256 + 256, "duplicates limited to what was in flight (concurrency + batch)")
        #expect(second.isRunning)
        try await server.shutdown()
    }

    @Test("SIGTERM drains in-flight transfers, releases leases and exits 0", .timeLimit(.minutes(2)))
    func sigtermDrains() async throws {
        let ledger = EventLedger()
        let server = try await FakeVendorServer.start { request in
            ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            return .delay(0.5, .ok)
        }
        // Few transfers at a time and a long lease: claimed-but-unsent deliveries must be released on
        // shutdown, or the restart would wait a minute for their leases to expire.
        let config = HeraldConfig()
            .with(worker: "concurrency", "4")
            .with(worker: "leaseSeconds", "60")
            .with(worker: "shutdownSeconds", "5")
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let first = try await env.startDaemon()
        let objects = (0..<20).map { n in
            EventJSON.object(text: "drain \(n)", recipients: [("webhook", "\(server.baseURL)/hook/\(n % 5)")])
        }
        let ids = try await env.enqueueAccepted(EventJSON.lines(objects))
        try #require(ids.count == 20)
        try await eventually("a first request at the sink", timeout: .seconds(20)) { server.requestCount >= 1 }

        let signalled = ContinuousClock.now
        first.signal(SIGTERM)
        let code = await first.waitForExit(timeout: .seconds(5 + 5))
        let took = ContinuousClock.now - signalled
        #expect(code == 0, "exit status after SIGTERM (took \(took)):\n\(first.logTail(lines: 30))")
        let log = first.output
        #expect(log.contains("msg=\"herald stopping\""))
        #expect(log.contains("msg=\"herald stopped\""))

        let stopped = try await env.status()
        print("after SIGTERM (\(took)): \(stopped); sink saw \(ledger.all.count) requests")
        #expect(stopped.deliveries("leased") == 0, "no lease left behind: \(stopped)")
        #expect(stopped.deliveries("delivered") >= 1, "the transfers in flight finished: \(stopped)")
        #expect(stopped.totalDeliveries == 20)

        let second = try await env.startDaemon()
        try await env.waitForStatus("20 delivered after the restart", timeout: .seconds(20), daemon: second) {
            $0.deliveries("delivered") == 20
        }
        let seen = ledger.all
        #expect(Set(seen) == Set(ids))
        #expect(seen.count == 20, "a drained shutdown sends nothing twice (\(seen.count) requests)")
        second.signal(SIGTERM)
        #expect(await second.waitForExit(timeout: .seconds(10)) == 0)
        try await server.shutdown()
    }

    @Test(
        "a dead letter is listed with its error and delivered after `deliveries retry --all-dead`",
        .timeLimit(.minutes(2))
    )
    func deadLetterAndReplay() async throws {
        let answer = ResponseSwitch(.status(400, body: "bad request: missing field"))
        let server = try await FakeVendorServer.start { _ in answer.response }
        let env = try HeraldEnvironment(config: HeraldConfig())
        defer { env.close() }
        let daemon = try await env.startDaemon()
        let ids = try await env.enqueueAccepted(
            EventJSON.lines([EventJSON.object(recipients: [("webhook", "\(server.baseURL)/hook/dead")])])
        )
        let id = try #require(ids.first)
        try await env.waitForStatus("a dead letter", timeout: .seconds(20), daemon: daemon) {
            $0.deliveries("dead") == 1
        }
        let list = try await env.run(["deliveries", "list", "--state", "dead", "--format", "json"])
        #expect(list.exitCode == 0, "\(list)")
        let rows = list.stdoutLines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        #expect(rows.count == 1, "\(list.stdout)")
        let row = try #require(rows.first)
        #expect(row["eventId"] as? String == id)
        #expect(row["state"] as? String == "dead")
        let lastError = row["lastError"] as? String ?? ""
        #expect(!lastError.isEmpty, "the dead letter keeps its last error: \(row)")
        #expect(lastError.contains("400"), "the last error names the answer: \(lastError)")

        answer.set(.ok)
        let retry = try await env.run(["deliveries", "retry", "--all-dead"])
        #expect(retry.exitCode == 0, "\(retry)")
        #expect(retry.stdout.contains("requeued 1"), "\(retry)")
        let status = try await env.waitForStatus(
            "the replayed delivery delivered",
            timeout: .seconds(20),
            daemon: daemon
        ) {
            $0.deliveries("delivered") == 1
        }
        #expect(status.deliveries("dead") == 0)
        #expect(server.requestCount == 2)
        try await server.shutdown()
    }
}

extension EndToEndTests {
    @Test(
        "a retry warning is logged once per distinct error per delivery; the last error is stored once",
        .timeLimit(.minutes(1))
    )
    func retryWarningOncePerDistinctError() async throws {
        let server = try await FakeVendorServer.start { _ in .status(500, body: "boom") }
        var config = HeraldConfig()
        config.webhookRetry = "{ maxAttempts: 3 }"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let daemon = try await env.startDaemon()
        _ = try await env.enqueueAccepted(
            EventJSON.lines([EventJSON.object(recipients: [("webhook", "\(server.baseURL)/hook/flaky")])])
        )
        try await env.waitForStatus("a dead letter after 3 attempts", timeout: .seconds(30), daemon: daemon) {
            $0.deliveries("dead") == 1
        }
        #expect(server.requestCount == 3)
        // SPEC §15: "Warning: retry scheduled (once per distinct error per delivery)". Attempts 1 and 2 fail the
        // same way: one warning, then debug.
        let retries = daemon.stdoutText.split(separator: "\n").filter { $0.contains("msg=\"retry scheduled\"") }
        let warnings = retries.filter { $0.contains("level=warning") }
        #expect(retries.count == 2, "\(retries)")
        #expect(warnings.count == 1, "one warning for one distinct error: \(warnings)")

        let list = try await env.run(["deliveries", "list", "--state", "dead", "--format", "json"])
        let row = try #require(
            list.stdoutLines.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any]
        )
        let lastError = row["lastError"] as? String ?? ""
        #expect(lastError.hasPrefix("serverError status=500: "), "\(lastError)")
        #expect(
            !lastError.hasPrefix("serverError status=500: serverError"),
            "reason and status stored twice: \(lastError)"
        )
        try await server.shutdown()
    }
}
