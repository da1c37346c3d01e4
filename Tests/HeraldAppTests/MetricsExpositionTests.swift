import Foundation
import HeraldCore
import HeraldSQLite
import HeraldTesting
import Synchronization
import Testing

@testable import HeraldApp

/// The daemon graph of `buildServices`, driven by hand over a real SQLite file and a fake webhook server, then
/// read through its own `/metrics` renderer.
@Suite("Metrics exposition of the daemon graph", .serialized)
struct MetricsExpositionTests {
    static func yaml(metricsListen: String? = nil) -> String {
        var lines = [
            "store:",
            "  sqlite:",
            "    path: \"herald.db\"",
            "log:",
            "  level: error",
            "defaults:",
            "  webhook: 6",
            "notifiers:",
            "  - id: 6",
            "    name: hook",
            "    channel: webhook",
            "    webhook: {}",
            "    rateLimit: { perSecond: 0 }",
            "    retry: { maxAttempts: 2 }",
            "catalog:",
            "  - key: notice",
            "    type: test",
            "    defaults: { webhook: true }",
        ]
        if let metricsListen { lines = ["server:", "  metricsListen: \"\(metricsListen)\""] + lines }
        return lines.joined(separator: "\n") + "\n"
    }

    final class Harness: Sendable {
        let directory: URL
        let store: SQLiteStore
        let server: FakeVendorServer
        let components: DaemonComponents

        init(handler: @escaping @Sendable (RecordedRequest) -> FakeResponse) async throws {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("herald-metrics-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            server = try await FakeVendorServer.start(handler: handler)
            let loaded = try ConfigurationLoader.load(
                yaml: MetricsExpositionTests.yaml(),
                baseDirectory: directory,
                environment: [:]
            )
            store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
            try await store.migrate()
            components = try Daemon.buildServices(
                loaded: loaded,
                configPath: directory.appendingPathComponent("herald.yaml").path,
                store: store,
                output: .capture()
            )
        }

        func enqueue(_ paths: [String], key: String = "notice") async throws {
            let events = paths.enumerated().map { index, path in
                let event = Event(
                    id: "evt-\(UUID().uuidString.prefix(8))-\(index)",
                    key: key,
                    organization: "acme",
                    data: ["title": .string("Notice \(index)")],
                    recipients: [.address(channel: .webhook, address: server.baseURL + path, notifier: nil)],
                    occurredAt: Date()
                )
                return NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data(event.id.utf8))
            }
            _ = try await store.enqueue(events, now: Date())
            try await components.fanOut.runOnce()
        }

        /// Sends what is due, waits for the transfers and records their outcomes.
        func step() async throws {
            try await components.send.claimAndDispatch(limit: 64)
            let deadline = ContinuousClock.now + .seconds(20)
            while components.send.inflightCount > 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            await components.send.flush()
        }

        func scrape() async throws -> (text: String, parsed: PrometheusText) {
            await components.metrics.refreshQueue(store: store, now: Date())
            let text = components.metricsText()
            return (text, try PrometheusText(text))
        }

        func shutdown() async throws {
            components.transport.shutdown()
            try await server.shutdown()
            try await store.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test func deliveriesAttemptsLatencyQueueAndProcessShowUpAndPromtoolAcceptsThem() async throws {
        let harness = try await Harness { request in
            request.path.hasSuffix("/bad") ? .status(400, body: "no") : .ok
        }
        try await harness.enqueue(["/hook/a", "/hook/b", "/hook/bad"])
        try await harness.step()
        // Fan-out of an event whose key the catalog lacks: counted as `unknown`, not by its key.
        try await harness.enqueue(["/hook/c"], key: "not_in_catalog")
        let (text, metrics) = try await harness.scrape()

        let webhook = ["channel": "webhook"]
        #expect(metrics.value("herald_events_total", ["key": "notice"]) == 3)
        #expect(metrics.value("herald_events_total", ["key": "unknown"]) == 1)
        #expect(metrics.value("herald_events_total", ["key": "not_in_catalog"]) == nil)
        #expect(
            metrics.value(
                "herald_deliveries_total",
                webhook.merging(["outcome": "delivered", "reason": "none"]) { $1 }
            )
                == 2
        )
        #expect(
            metrics.value(
                "herald_deliveries_total",
                webhook.merging(["outcome": "dead", "reason": "clientError"]) { $1 }
            )
                == 1
        )
        #expect(metrics.value("herald_deliveries_total", ["outcome": "retry"]) == 0)
        #expect(metrics.value("herald_delivery_attempts_total", webhook) == 3)
        #expect(metrics.value("herald_delivery_latency_seconds_count", webhook) == 2)
        #expect(metrics.value("herald_delivery_latency_seconds_bucket", webhook.merging(["le": "+Inf"]) { $1 }) == 2)
        #expect(metrics.value("herald_suppressions_total", ["reason": "unknown_key"]) == 1)
        #expect(metrics.value("herald_queue_depth", ["state": "dead"]) == 1)
        #expect(metrics.value("herald_queue_depth", ["state": "pending"]) == 0)
        #expect(metrics.value("herald_oldest_due_seconds") == 0)
        #expect(metrics.value("herald_destinations", ["state": "broken"]) == 0)
        #expect(metrics.value("herald_build_info", ["version": HeraldVersion.current]) == 1)
        #if os(Linux)
        #expect((metrics.value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((metrics.value("process_open_fds") ?? 0) > 2)
        #expect((metrics.value("process_cpu_seconds_total") ?? 0) > 0)
        let start = metrics.value("process_start_time_seconds") ?? 0
        #expect(abs(start - Date().timeIntervalSince1970) < 24 * 3600, "start time \(start)")
        #endif
        // Every family carries help and type lines.
        for family in metrics.types.keys {
            #expect(metrics.help[family]?.isEmpty == false, "no help for \(family)")
        }
        try checkWithPromtool(text)
        try await harness.shutdown()
    }

    @Test func aRetriedDeliveryCountsOneRetryAndADelivered() async throws {
        let answered = Mutex(0)
        let harness = try await Harness { _ in
            let first = answered.withLock { count -> Bool in
                count += 1
                return count == 1
            }
            // `Retry-After: 0` makes the retry due at once, so the test needs no clock of its own.
            return first ? .status(503, retryAfter: "0", body: "busy") : .ok
        }
        try await harness.enqueue(["/hook/a"])
        try await harness.step()
        let deadline = ContinuousClock.now + .seconds(20)
        var delivered = 0.0
        while delivered < 1 && ContinuousClock.now < deadline {
            try await harness.step()
            delivered =
                try await harness.scrape().parsed.value("herald_deliveries_total", ["outcome": "delivered"]) ?? 0
            if delivered < 1 { try await Task.sleep(for: .milliseconds(20)) }
        }
        let metrics = try await harness.scrape().parsed
        #expect(metrics.value("herald_deliveries_total", ["outcome": "delivered"]) == 1)
        #expect(metrics.value("herald_deliveries_total", ["outcome": "retry", "reason": "serverError"]) == 1)
        #expect(metrics.value("herald_deliveries_total", ["outcome": "dead"]) == 0)
        #expect(metrics.value("herald_delivery_attempts_total", ["channel": "webhook"]) == 2)
        try await harness.shutdown()
    }

    @Test func twoGraphsInOneProcessKeepSeparateRegistries() async throws {
        let first = try await Harness { _ in .ok }
        let second = try await Harness { _ in .ok }
        try await first.enqueue(["/hook/a"])
        try await first.step()
        #expect(try await first.scrape().parsed.value("herald_deliveries_total", ["outcome": "delivered"]) == 1)
        #expect(try await second.scrape().parsed.value("herald_deliveries_total", ["outcome": "delivered"]) == 0)
        try await first.shutdown()
        try await second.shutdown()
    }

    @Test(
        arguments: [
            ("127.0.0.1:9425", "127.0.0.1", 9425), ("localhost:0", "localhost", 0), ("[::1]:9425", "::1", 9425),
        ]
    )
    func metricsListenAddressesParse(text: String, host: String, port: Int) throws {
        let parsed = try #require(MetricsListener.parse(text))
        #expect(parsed.host == host)
        #expect(parsed.port == port)
    }

    @Test(arguments: ["9425", ":9425", "host:", "host:port", "host:70000", ""])
    func badMetricsListenAddressesAreRefusedByName(text: String) throws {
        #expect(MetricsListener.parse(text) == nil)
        let yaml = Self.yaml(metricsListen: text)
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(
                yaml: yaml,
                baseDirectory: FileManager.default.temporaryDirectory,
                environment: [:]
            )
        }
        do {
            _ = try ConfigurationLoader.load(
                yaml: yaml,
                baseDirectory: FileManager.default.temporaryDirectory,
                environment: [:]
            )
        } catch {
            #expect(error.problems.map(\.field) == ["server.metricsListen"])
        }
    }

    @Test func procStatFieldsAreReadAfterTheCommandName() throws {
        // The command name may hold spaces and parentheses; fields count from the last ")".
        let line =
            "4242 (herald (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 12345 "
            + "987654321 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let fields = try #require(ProcessMetrics.statFields(line))
        #expect(fields.userTicks == 250)
        #expect(fields.systemTicks == 50)
        #expect(fields.startTicks == 12345)
        #expect(fields.virtualBytes == 987_654_321)
        #expect(fields.rssPages == 2048)
    }
}

/// Runs `promtool check metrics` on `text`; without promtool, says so and checks nothing.
func checkWithPromtool(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    guard let verdict = try Promtool.checkMetrics(text) else {
        print("promtool not on PATH (Debian package `prometheus`): skipping `promtool check metrics`")
        return
    }
    #expect(verdict.accepted, "promtool check metrics: \(verdict.output)", sourceLocation: sourceLocation)
}
