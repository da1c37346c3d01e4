import Foundation
import HeraldTesting
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension EndToEndTests {
    @Test(
        "GET /metrics on server.metricsListen after real deliveries: one count per outcome, attempts apart; promtool accepts it",
        .timeLimit(.minutes(2))
    )
    func metricsAfterDeliveries() async throws {
        let flakyAnswers = Mutex(0)
        let server = try await FakeVendorServer.start { request in
            if request.path.hasSuffix("/dead") { return .status(400, body: "no such hook") }
            if request.path.hasSuffix("/flaky") {
                let number = flakyAnswers.withLock { count -> Int in
                    count += 1
                    return count
                }
                return number <= 2 ? .status(500, body: "boom") : .ok
            }
            return .ok
        }
        var config = HeraldConfig()
        config.webhookRetry = "{ maxAttempts: 5 }"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        try env.writeConfig(yaml: MetricsScrape.withMetricsListener(config.yaml))
        let daemon = try await env.startDaemon()
        let scrape = try await MetricsScrape(daemon: daemon)

        let paths = ["/hook/ok/1", "/hook/ok/2", "/hook/ok/3", "/hook/flaky", "/hook/dead"]
        let objects = paths.map { EventJSON.object(recipients: [("webhook", server.baseURL + $0)]) }
        let ids = try await env.enqueueAccepted(EventJSON.lines(objects))
        try #require(ids.count == 5)
        try await env.waitForStatus("4 delivered and 1 dead", timeout: .seconds(60), daemon: daemon) {
            $0.deliveries("delivered") == 4 && $0.deliveries("dead") == 1
        }
        // Outcomes are counted before the status above saw them; the queue gauges follow within their refresh
        // interval (5 s).
        var scraped = try await scrape.get()
        try await eventually(
            "herald_queue_depth to show the dead letter",
            timeout: .seconds(15),
            every: .milliseconds(200)
        ) {
            scraped = try await scrape.get()
            return scraped.parsed.value("herald_queue_depth", ["state": "dead"]) == 1
        }
        let (text, metrics) = scraped
        let webhook = ["channel": "webhook"]
        func deliveries(_ outcome: String, _ reason: String) -> Double? {
            metrics.value(
                "herald_deliveries_total",
                ["channel": "webhook", "outcome": outcome, "reason": reason]
            )
        }
        #expect(metrics.value("herald_events_total", ["key": "test_notice"]) == 5)
        #expect(deliveries("delivered", "none") == 4)
        #expect(deliveries("retry", "serverError") == 1, "the flaky delivery entered retry once")
        #expect(deliveries("dead", "clientError") == 1)
        #expect(metrics.value("herald_deliveries_total", ["outcome": "dead"]) == 1)
        #expect(metrics.value("herald_deliveries_total", ["outcome": "retry"]) == 1)
        // 3 clean + 3 for the flaky one + 1 for the dead one.
        #expect(metrics.value("herald_delivery_attempts_total", webhook) == 7)
        #expect(server.requestCount == 7)
        #expect(metrics.value("herald_delivery_latency_seconds_count", webhook) == 4)
        #expect(metrics.value("herald_queue_depth", ["state": "dead"]) == 1)
        #expect(metrics.value("herald_queue_depth", ["state": "pending"]) == 0)
        #expect((metrics.value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect(metrics.value("process_start_time_seconds").map { $0 > 1_600_000_000 } == true)
        #expect(metrics.hasFamily("herald_destinations"))
        // No event id, URL or secret in any label.
        for id in ids { #expect(!text.contains(id)) }
        #expect(!text.contains(server.baseURL))
        #expect(!text.contains(HeraldConfig.slackToken))

        guard let verdict = try Promtool.checkMetrics(text) else {
            print("promtool not on PATH (Debian package `prometheus`): skipping `promtool check metrics`")
            try await server.shutdown()
            return
        }
        #expect(verdict.accepted, "promtool check metrics: \(verdict.output)")
        try await server.shutdown()
    }
}

/// Reads `/metrics` from a daemon started with `server.metricsListen: "127.0.0.1:0"` (the port it bound is in
/// its `metrics listening` log line).
struct MetricsScrape {
    let url: URL

    init(url: URL) {
        self.url = url
    }

    /// Adds a `server.metricsListen` on an ephemeral port to a configuration without a `server` section.
    static func withMetricsListener(_ yaml: String) -> String {
        "server:\n  metricsListen: \"127.0.0.1:0\"\n" + yaml
    }

    init(daemon: DaemonProcess, timeout: Duration = .seconds(10)) async throws {
        var found: URL?
        try await eventually("the metrics listener's address in the log", timeout: timeout) {
            found = Self.address(in: daemon.stdoutText)
            return found != nil
        }
        url = try #require(found)
    }

    static func address(in log: String) -> URL? {
        for line in log.split(separator: "\n") where line.contains("msg=\"metrics listening\"") {
            guard let range = line.range(of: "address=") else { continue }
            let value = line[range.upperBound...].prefix { $0 != " " }.trimmingCharacters(in: ["\""])
            return URL(string: "http://\(value)/metrics")
        }
        return nil
    }

    /// One scrape: the text and its parse.
    func get() async throws -> (text: String, parsed: PrometheusText) {
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect(http.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = String(decoding: data, as: UTF8.self)
        return (text, try PrometheusText(text))
    }
}
