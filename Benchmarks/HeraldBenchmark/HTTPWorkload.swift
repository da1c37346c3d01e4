import Foundation
import NIOCore
import NIOHTTP1

/// What one W1-HTTP phase (batches or single events) measured.
struct HTTPIntakeResults {
    var mode: String
    var events = 0
    var requests = 0
    var connections = 0
    /// Events the API answered `accepted` for.
    var accepted = 0
    var intakeSeconds = 0.0
    var acceptedPerSecond: Double?
    /// Events over the time from the first request to the last delivery at the sink.
    var deliveriesPerSecond: Double?
    var lastDeliveryMs: Double?
    var p50Ms: Double?
    var p99Ms: Double?
    var maxMs: Double?
    var unexpected = 0
    var errors: [String] = []
    var usage: ProcessUsage?
}

/// What one W6 phase (GET matrix or PATCH a row) measured.
struct HTTPRequestResults {
    var route: String
    var requests = 0
    var connections = 0
    var perSecond: Double?
    var p50Ms: Double?
    var p99Ms: Double?
    var maxMs: Double?
    var unexpected = 0
    var errors: [String] = []
    var usage: ProcessUsage?
    /// GET only: matrix rows in the sampled answers (every one must have `matrixKeys`).
    var matrixRows: Int?
}

extension BenchmarkRun {
    /// `Authorization` with the benchmark's API token.
    private var tokenHeader: (String, String) { ("Authorization", "Bearer \(APIBenchmarkConfiguration.token)") }

    /// W1-HTTP (SPEC §16): the W1 events POSTed to `POST /api/v1/events`, first in batches of 100 and then one
    /// per request, over `--http-connections` keep-alive connections; accepted/s, deliveries/s end to end (first
    /// request to the last delivery at the sink) and request latency.
    func intakeOverHTTP() async throws {
        results.httpBatches = try await intakePhase(mode: "batches", group: "w1hb", perRequest: 100)
        results.httpSingles = try await intakePhase(mode: "single", group: "w1hs", perRequest: 1)
    }

    private func intakePhase(mode: String, group: String, perRequest: Int) async throws -> HTTPIntakeResults {
        guard let daemon else { throw BenchmarkError("no daemon") }
        let count = options.events
        let requests = (count + perRequest - 1) / perRequest
        let bodies: [[UInt8]] = (0..<requests).map { request in
            let range = (request * perRequest + 1)...min(count, (request + 1) * perRequest)
            let lines = range.map { BenchmarkConfiguration.eventLine(id: "\(group)-\($0)", number: $0) }
            let text = perRequest == 1 ? lines[0] : #"{"events":["# + lines.joined(separator: ",") + "]}"
            return Array(text.utf8)
        }
        let headers = [tokenHeader, ("Content-Type", "application/json")]
        say("W1-HTTP \(mode): \(count) events in \(requests) POSTs over \(options.httpConnections) connections")
        let before = ProcessSample.take(daemon.pid)
        let start = monotonicNanos()
        let load = try await HTTPLoad.run(
            host: "127.0.0.1",
            port: apiPort,
            connections: options.httpConnections,
            total: requests,
            request: { LoadRequest(method: .POST, uri: "/api/v1/events", headers: headers, body: bodies[$0]) },
            inspect: { _, status, body in status == 202 ? Self.acceptedCount(body) : 0 }
        )
        var phase = HTTPIntakeResults(mode: mode, events: count, requests: requests)
        phase.connections = options.httpConnections
        phase.accepted = load.tally
        phase.intakeSeconds = load.seconds
        phase.acceptedPerSecond = Double(load.tally) / max(load.seconds, 1e-9)
        phase.p50Ms = load.p50Ms
        phase.p99Ms = load.p99Ms
        phase.maxMs = load.maxMs
        phase.unexpected = load.unexpected([202])
        phase.errors = load.errors
        say(
            "W1-HTTP \(mode): \(load.answered) answers in \(fixed(load.seconds * 1000)) ms, \(load.tally) accepted, "
                + "statuses \(load.statuses), p50 \(fixed(load.p50Ms, 2)) ms, p99 \(fixed(load.p99Ms, 2)) ms"
        )
        for error in load.errors.prefix(3) { say("W1-HTTP \(mode): \(error)") }
        if phase.unexpected > 0 || !load.errors.isEmpty || load.tally != count {
            fail("W1-HTTP \(mode): \(load.tally) of \(count) accepted, \(phase.unexpected) unexpected statuses")
        }
        try waitForArrivals("W1-HTTP \(mode)", stallSeconds: 30, deadlineSeconds: 300) {
            let arrivals = recorder.arrivals(group)
            return (arrivals.count >= load.tally, arrivals.count, "\(arrivals.count) of \(load.tally) delivered")
        }
        phase.usage = ProcessUsage(from: before, to: ProcessSample.take(daemon.pid))
        let arrivals = recorder.arrivals(group)
        phase.lastDeliveryMs = millis(arrivals.last - start)
        phase.deliveriesPerSecond = Double(arrivals.count) / max(1e-9, Double(arrivals.last - start) / 1e9)
        expectedDelivered += load.tally
        let status = try waitForDelivered(expectedDelivered, timeoutSeconds: 15)
        if status.delivered != expectedDelivered {
            fail("W1-HTTP \(mode): herald status reports \(status.delivered) delivered, expected \(expectedDelivered)")
        }
        say(
            "W1-HTTP \(mode): \(arrivals.count)th delivery at \(fixed(phase.lastDeliveryMs ?? 0)) ms: "
                + "\(fixed(phase.deliveriesPerSecond ?? 0, 0)) deliveries/s end to end"
        )
        return phase
    }

    /// The `accepted` count of a `POST /api/v1/events` answer (`…"accepted":17,…`), without a JSON decoder on
    /// the load generator's hot path.
    static func acceptedCount(_ body: ByteBuffer) -> Int {
        let bytes = body.readableBytesView
        let needle = Array(#""accepted":"#.utf8)
        guard bytes.count > needle.count else { return 0 }
        var index = bytes.startIndex
        while index <= bytes.endIndex - needle.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) {
                var value = 0
                var digit = index + needle.count
                while digit < bytes.endIndex, bytes[digit] >= 48, bytes[digit] <= 57 {
                    value = value * 10 + Int(bytes[digit] - 48)
                    digit += 1
                }
                return value
            }
            index += 1
        }
        return 0
    }

    /// W6 (SPEC §16): `GET /api/v1/notifications/preferences` (the 40-key matrix) and `PATCH …/{key}` (durable),
    /// as users with their own JWTs, over `--http-connections` connections; req/s and latency.
    func preferencesOverHTTP() async throws {
        let users = max(1, options.httpConnections)
        _ = try importDirectory(APIBenchmarkConfiguration.directory(users: users), name: "w6-directory")
        let tokens = (1...users).map {
            "Bearer " + APIBenchmarkConfiguration.jwt(user: APIBenchmarkConfiguration.user($0))
        }
        let keys = [BenchmarkConfiguration.key] + APIBenchmarkConfiguration.extraKeys
        let getPath = "/api/v1/notifications/preferences"
        // Untimed: every connection's user once (the daemon reloads its directory snapshot after the import).
        _ = try await HTTPLoad.run(
            host: "127.0.0.1",
            port: apiPort,
            connections: options.httpConnections,
            total: users * 4,
            request: { LoadRequest(method: .GET, uri: getPath, headers: [("Authorization", tokens[$0 % users])]) }
        )
        results.healthzCeiling = try await preferencePhase(route: "GET /healthz", total: options.w6Gets) { _ in
            LoadRequest(method: .GET, uri: "/healthz")
        } inspect: { _, _, _ in
            0
        }
        results.preferencesGet = try await preferencePhase(route: "GET \(getPath)", total: options.w6Gets) { index in
            LoadRequest(method: .GET, uri: getPath, headers: [("Authorization", tokens[index % users])])
        } inspect: { index, status, body in
            // Sample the first answers of every user: decode and count the matrix rows.
            guard status == 200, index < users else { return 0 }
            return Self.matrixRowCount(body) == APIBenchmarkConfiguration.matrixKeys ? 1 : 0
        }
        if let sampled = results.preferencesGet?.matrixRows, sampled != users {
            fail(
                "W6: \(users - sampled) of \(users) sampled GET answers did not hold a \(APIBenchmarkConfiguration.matrixKeys)-row matrix"
            )
        }
        let bodies = [Array(#"{"email":false}"#.utf8), Array(#"{"email":true,"slack":true}"#.utf8)]
        results.preferencesPatch = try await preferencePhase(
            route: "PATCH \(getPath)/{eventKey}",
            total: options.w6Patches
        ) { index in
            LoadRequest(
                method: .PATCH,
                uri: "\(getPath)/\(keys[(index / users) % keys.count])",
                headers: [("Authorization", tokens[index % users]), ("Content-Type", "application/json")],
                body: bodies[(index / (users * keys.count)) % 2]
            )
        } inspect: { _, _, _ in
            0
        }
    }

    private func preferencePhase(
        route: String,
        total: Int,
        request: @escaping @Sendable (Int) -> LoadRequest,
        inspect: @escaping @Sendable (Int, Int, ByteBuffer) -> Int
    ) async throws -> HTTPRequestResults {
        guard let daemon else { throw BenchmarkError("no daemon") }
        say("W6: \(total) × \(route) over \(options.httpConnections) connections")
        let before = ProcessSample.take(daemon.pid)
        let load = try await HTTPLoad.run(
            host: "127.0.0.1",
            port: apiPort,
            connections: options.httpConnections,
            total: total,
            request: request,
            inspect: inspect
        )
        var phase = HTTPRequestResults(route: route, requests: total, connections: options.httpConnections)
        phase.usage = ProcessUsage(from: before, to: ProcessSample.take(daemon.pid))
        phase.perSecond = load.perSecond
        phase.p50Ms = load.p50Ms
        phase.p99Ms = load.p99Ms
        phase.maxMs = load.maxMs
        phase.unexpected = load.unexpected([200])
        phase.errors = load.errors
        if route.hasPrefix("GET") { phase.matrixRows = load.tally }
        say(
            "W6: \(route): \(fixed(load.perSecond, 0)) req/s, p50 \(fixed(load.p50Ms, 2)) ms, "
                + "p99 \(fixed(load.p99Ms, 2)) ms, statuses \(load.statuses)"
        )
        for error in load.errors.prefix(3) { say("W6: \(error)") }
        if phase.unexpected > 0 || !load.errors.isEmpty || load.answered != total {
            fail("W6: \(route): \(load.answered) of \(total) answered, \(phase.unexpected) not 200")
        }
        return phase
    }

    /// How many rows the matrix answer holds (`{"success":true,"data":[…]}` or a bare array).
    static func matrixRowCount(_ body: ByteBuffer) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) else { return nil }
        if let rows = object as? [Any] { return rows.count }
        if let envelope = object as? [String: Any], let rows = envelope["data"] as? [Any] { return rows.count }
        return nil
    }

    /// The W1-HTTP and W6 lines of the summary.
    func httpSummary() -> [ReportLine] {
        var lines: [ReportLine] = []
        if options.runs(.w1http) {
            for phase in [results.httpBatches, results.httpSingles].compactMap({ $0 }) {
                let single = phase.mode == "single"
                lines.append(
                    ReportLine(
                        "W1-HTTP",
                        [
                            Figure("deliveries_per_s", phase.deliveriesPerSecond, digits: 0, target: .atLeast(10_000)),
                            Figure(
                                "ratio_to_ceiling",
                                ratioToCurl(phase.deliveriesPerSecond),
                                digits: 3
                            ),
                            Figure(
                                "accepted_per_s",
                                phase.acceptedPerSecond,
                                digits: 0,
                                target: single ? .atLeast(10_000) : nil
                            ),
                            Figure("request_p50_ms", phase.p50Ms, digits: 2),
                            Figure("request_p99_ms", phase.p99Ms, digits: 2),
                            Figure("request_max_ms", phase.maxMs, digits: 2),
                            Figure("accepted", phase.accepted),
                            Figure("requests", phase.requests),
                            Figure("connections", phase.connections),
                        ],
                        notes: [phase.mode]
                    )
                )
                if let usage = phase.usage {
                    lines.append(
                        ReportLine("W1-HTTP", usage.figures(per: phase.events, unit: "event"), notes: [phase.mode])
                    )
                }
            }
        } else {
            lines.append(ReportLine("W1-HTTP", [], notes: ["skipped"]))
        }
        if options.runs(.w6) {
            let targets: [(HTTPRequestResults?, Double?, String)] = [
                (results.healthzCeiling, nil, "ceiling: GET /healthz"),
                (results.preferencesGet, 20_000, "GET"), (results.preferencesPatch, 5_000, "PATCH"),
            ]
            let ceiling = results.healthzCeiling?.perSecond
            for (phase, target, name) in targets {
                guard let phase else { continue }
                var ratio: Double?
                if target != nil, let rate = phase.perSecond, let ceiling { ratio = rate / max(ceiling, 1) }
                lines.append(
                    ReportLine(
                        "W6",
                        [
                            Figure("req_per_s", phase.perSecond, digits: 0, target: target.map { .atLeast($0) }),
                            Figure("ratio_to_ceiling", ratio, digits: 3),
                            Figure("p50_ms", phase.p50Ms, digits: 2),
                            Figure("p99_ms", phase.p99Ms, digits: 2, target: target == nil ? nil : .atMost(10)),
                            Figure("max_ms", phase.maxMs, digits: 2),
                            Figure("requests", phase.requests),
                            Figure("connections", phase.connections),
                        ],
                        notes: [name]
                    )
                )
                if let usage = phase.usage {
                    lines.append(ReportLine("W6", usage.figures(per: phase.requests, unit: "request"), notes: [name]))
                }
            }
        } else {
            lines.append(ReportLine("W6", [], notes: ["skipped"]))
        }
        return lines
    }
}
