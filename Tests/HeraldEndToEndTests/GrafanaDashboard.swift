import Foundation
import HeraldTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ops/grafana-dashboard.json`: the PromQL of its panels and variables, and the metric names they query.
struct GrafanaDashboard {
    let expressions: [String]

    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ops/grafana-dashboard.json")

    init(url: URL = GrafanaDashboard.url) throws {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        var found: [String] = []
        func walk(_ value: Any, key: String?) {
            if let dictionary = value as? [String: Any] {
                for (key, value) in dictionary { walk(value, key: key) }
            } else if let array = value as? [Any] {
                for value in array { walk(value, key: key) }
            } else if let string = value as? String, key == "expr" || key == "definition" {
                found.append(string)
            }
        }
        walk(object, key: nil)
        expressions = found
    }

    /// Every Herald or process metric name the expressions mention (histogram series keep their suffix).
    var metricNames: Set<String> {
        var names: Set<String> = []
        let pattern = try! NSRegularExpression(pattern: "\\b(herald|process)_[a-z0-9_]+\\b")
        for expression in expressions {
            let range = NSRange(expression.startIndex..., in: expression)
            for match in pattern.matches(in: expression, range: range) {
                if let range = Range(match.range, in: expression) { names.insert(String(expression[range])) }
            }
        }
        return names
    }

    /// The panel expressions with Grafana's variables replaced, as a rules file `promtool check rules` parses.
    var asRecordingRules: String {
        var lines = ["groups:", "  - name: herald_dashboard", "    rules:"]
        for (index, expression) in expressions.enumerated() where !expression.hasPrefix("label_values(") {
            let promql =
                expression
                .replacingOccurrences(of: "$__rate_interval", with: "5m")
                .replacingOccurrences(of: "$instance", with: ".*")
            let quoted = promql.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                of: "\"",
                with: "\\\""
            )
            lines += ["      - record: herald_dashboard:panel_\(index)", "        expr: \"\(quoted)\""]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension EndToEndTests {
    @Test(
        "ops/grafana-dashboard.json queries only metrics the running daemon exposes, in PromQL promtool parses",
        .timeLimit(.minutes(2))
    )
    func dashboardQueriesExistingMetrics() async throws {
        let server = try await FakeVendorServer.start { _ in .ok }
        var config = HeraldConfig()
        config.apiListen = "127.0.0.1:0"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let daemon = try await env.startDaemon()
        let port = try #require(daemon.apiPort, "the api listening line")
        let base = "http://127.0.0.1:\(port)"
        // An event through the API: HTTP metrics, events, deliveries and latency all get samples.
        var post = URLRequest(url: try #require(URL(string: "\(base)/api/v1/events")))
        post.httpMethod = "POST"
        post.setValue("Bearer \(HeraldConfig.apiToken)", forHTTPHeaderField: "Authorization")
        post.setValue("application/json", forHTTPHeaderField: "Content-Type")
        post.httpBody = Data(
            EventJSON.line(EventJSON.object(recipients: [("webhook", server.baseURL + "/hook/dash")])).utf8
        )
        let (_, answer) = try await URLSession.shared.data(for: post)
        #expect((answer as? HTTPURLResponse)?.statusCode == 202)
        try await env.waitForStatus("1 delivered", timeout: .seconds(30), daemon: daemon) {
            $0.deliveries("delivered") == 1
        }
        let scrape = MetricsScrape(url: try #require(URL(string: "\(base)/metrics")))
        let (text, metrics) = try await scrape.get()

        let dashboard = try GrafanaDashboard()
        let names = dashboard.metricNames
        #expect(names.count >= 12, "\(names.sorted())")
        let missing = names.filter { !metrics.hasFamily($0) }.sorted()
        #expect(missing.isEmpty, "the dashboard queries metrics /metrics does not have: \(missing)")
        for family in ["herald_http_requests_total", "herald_http_request_duration_seconds"] {
            #expect(metrics.hasFamily(family), "\(family) after an API request")
            #expect(metrics.help[family]?.isEmpty == false, "help text of \(family)")
        }
        #expect(metrics.value("herald_http_requests_total", ["route": "/api/v1/events", "status": "202"]) == 1)

        if let verdict = try Promtool.checkRules(dashboard.asRecordingRules) {
            #expect(verdict.accepted, "promtool check rules on the dashboard's PromQL: \(verdict.output)")
        } else {
            print("promtool not on PATH (Debian package `prometheus`): skipping the dashboard's PromQL syntax check")
        }
        if let verdict = try Promtool.checkMetrics(text) {
            #expect(verdict.accepted, "promtool check metrics: \(verdict.output)")
        }
        try await server.shutdown()
    }
}
