import Foundation
import GRDB
import HeraldCore
import HeraldCurl
import HeraldTesting
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The yardsticks of one run (SPEC §16), measured on the same machine minutes apart from the workloads:
/// the same `CurlTransport` posting W1's payload to the same sink at the same concurrency with no store and no
/// rendering, and a bare SQLite batch insert + claim + mark-done loop on a file next to the daemon's.
struct Ceilings {
    /// Requests the bare transport loop completed per second.
    var curlPerSecond: Double?
    var curlRequests = 0
    /// Requests of the bare loop that did not get a 2xx.
    var curlFailures = 0
    var curlUsage: ProcessUsage?
    /// Rows per second of one batched insert transaction.
    var sqliteInsertPerSecond: Double?
    /// The bare transport's latency at W3's rate: from handing a request to the transport to its arrival at the
    /// sink (p50, p99, in ms), with nothing else in the way.
    var latencyP50Ms: Double?
    var latencyP99Ms: Double?
    var latencyRequests = 0
    /// Rows per second claimed (leased in batches) and then marked done (in batches).
    var sqliteClaimDonePerSecond: Double?
}

extension BenchmarkRun {
    /// Event ids of the capture event; the sink keeps its first request as the ceiling's template.
    static let captureGroup = "w1cap"
    /// Event ids the bare curl loop sends (counted by the sink like any group).
    static let ceilingGroup = "ceil"

    /// Captures one W1 request as the daemon sends it (path, headers, body), then measures both ceilings.
    func measureCeilings() async throws {
        guard let sink else { throw BenchmarkError("no sink") }
        try enqueueNow(
            [BenchmarkConfiguration.eventLine(id: "\(Self.captureGroup)-1", number: 0)],
            name: "w1-capture"
        )
        try waitForArrivals("ceiling capture", stallSeconds: 30) {
            let seen = recorder.arrivals(Self.captureGroup).count
            return (seen >= 1, seen, "capture requests=\(seen)")
        }
        expectedDelivered += 1
        guard let template = recorder.sample(Self.captureGroup) else {
            throw BenchmarkError("ceiling: the sink kept no sample of the capture request")
        }
        var ceilings = Ceilings()
        let count = options.ceilingRequests
        let curl = try await Self.curlCeiling(
            template: template,
            baseURL: sink.baseURL,
            count: count,
            concurrency: BenchmarkConfiguration.concurrency,
            maxHostConnections: BenchmarkConfiguration.maxHostConnections
        )
        ceilings.curlPerSecond = curl.perSecond
        ceilings.curlRequests = count
        ceilings.curlFailures = curl.failures
        ceilings.curlUsage = curl.usage
        let arrived = recorder.arrivals(Self.ceilingGroup).count
        if arrived < count {
            fail("ceiling: the sink saw \(arrived) of \(count) bare curl requests")
        }
        recorder.resetGroup(Self.ceilingGroup)
        if options.runs(.w3) {
            let latency = try await latencyCeiling(template: template, baseURL: sink.baseURL)
            ceilings.latencyP50Ms = latency.p50
            ceilings.latencyP99Ms = latency.p99
            ceilings.latencyRequests = latency.count
        }
        if let workdir {
            let sqlite = try Self.sqliteCeiling(
                path: workdir + "/ceiling.db",
                rows: options.ceilingRequests,
                payload: template.body,
                batch: BenchmarkConfiguration.batchSize
            )
            ceilings.sqliteInsertPerSecond = sqlite.insertPerSecond
            ceilings.sqliteClaimDonePerSecond = sqlite.claimDonePerSecond
        }
        results.ceilings = ceilings
        say(
            "ceiling: bare CurlTransport \(fixed(ceilings.curlPerSecond ?? 0, 0)) requests/s"
                + " (\(count) requests, \(ceilings.curlFailures) failed, \(BenchmarkConfiguration.concurrency) in flight);"
                + " bare SQLite insert \(fixed(ceilings.sqliteInsertPerSecond ?? 0, 0)) rows/s,"
                + " claim + mark done \(fixed(ceilings.sqliteClaimDonePerSecond ?? 0, 0)) rows/s"
        )
    }

    /// W3's yardstick: requests handed one at a time to a `CurlTransport` at W3's rate (for up to 5 s), timed
    /// from `start` to their arrival at the sink: what delivery costs with no intake, store or worker in the way.
    func latencyCeiling(
        template: RecordedRequest,
        baseURL: String
    ) async throws -> (p50: Double, p99: Double, count: Int) {
        let headers = Self.templateHeaders(template)
        let url = baseURL + template.path
        let transport = CurlTransport(maxHostConnections: BenchmarkConfiguration.maxHostConnections)
        defer { transport.shutdown() }
        let warm = [HTTPHeader("X-Herald-Event-Id", "\(Self.ceilingGroup)warm-latency")]
        _ = await transport.send(HTTPRequest(url: url, headers: headers + warm, body: template.body))
        let count = max(
            1,
            min(Int((options.latencyRate * options.latencySeconds).rounded()), Int(options.latencyRate * 5))
        )
        let interval = UInt64(1e9 / options.latencyRate)
        var sentAt: [UInt64] = []
        sentAt.reserveCapacity(count)
        let finished = SharedCounter()
        var next = monotonicNanos()
        for number in 1...count {
            sleep(untilNanos: next)
            next += interval
            var request = HTTPRequest(url: url, headers: headers, body: template.body)
            request.headers.append(HTTPHeader("X-Herald-Event-Id", "\(SinkRecorder.latencyCeilingPrefix)\(number)"))
            sentAt.append(monotonicNanos())
            transport.start(request) { _ in _ = finished.increment() }
        }
        let deadline = monotonicNanos() + 30_000_000_000
        while finished.value < count || recorder.ceilingLatencyArrivals.count < count {
            if monotonicNanos() > deadline {
                throw BenchmarkError("latency ceiling: \(recorder.ceilingLatencyArrivals.count) of \(count) arrived")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let arrivals = recorder.ceilingLatencyArrivals
        var latencies = (1...count).map { number -> Double in
            let arrived = arrivals["\(SinkRecorder.latencyCeilingPrefix)\(number)"] ?? 0
            return arrived >= sentAt[number - 1] ? millis(arrived - sentAt[number - 1]) : 0
        }
        latencies.sort()
        say(
            "ceiling: bare CurlTransport latency at \(fixed(options.latencyRate, 0))/s: p50 "
                + "\(fixed(percentile(latencies, 0.5), 2)) ms, p99 \(fixed(percentile(latencies, 0.99), 2)) ms"
        )
        return (percentile(latencies, 0.5), percentile(latencies, 0.99), count)
    }

    /// The headers of the captured request a bare transport sends again (not the ids the daemon sets per delivery).
    static func templateHeaders(_ template: RecordedRequest) -> [HTTPHeader] {
        let kept: Set<String> = ["content-type", "authorization", "user-agent", "x-herald-delivery-id"]
        return template.headers.filter { kept.contains($0.name.lowercased()) }.map { HTTPHeader($0.name, $0.value) }
    }

    /// `value` as a share of the curl ceiling of this run.
    func ratioToCurl(_ value: Double?) -> Double? {
        guard let value, let ceiling = results.ceilings?.curlPerSecond, ceiling > 0 else { return nil }
        return value / ceiling
    }

    /// `value` as a share of the SQLite claim + done ceiling of this run.
    func ratioToSQLite(_ value: Double?) -> Double? {
        guard let value, let ceiling = results.ceilings?.sqliteClaimDonePerSecond, ceiling > 0 else { return nil }
        return value / ceiling
    }

    /// The ceiling lines of the summary.
    func ceilingSummary() -> [ReportLine] {
        guard let c = results.ceilings else { return [ReportLine("CEILING", [], notes: ["skipped"])] }
        var curl = [
            Figure("curl_requests_per_s", c.curlPerSecond, digits: 0),
            Figure("requests", c.curlRequests),
            Figure("failed", c.curlFailures),
        ]
        if let usage = c.curlUsage {
            curl.append(Figure("cpu_pct_of_core", usage.cpuPercentOfCore, digits: 0))
            curl.append(Figure("machine_idle_pct", usage.machineIdlePercent, digits: 0))
        }
        return [
            ReportLine("CEILING", curl, notes: ["(same CurlTransport, W1 payload, same sink and concurrency)"]),
            ReportLine(
                "CEILING",
                [
                    Figure("curl_latency_p50_ms", c.latencyP50Ms, digits: 2),
                    Figure("curl_latency_p99_ms", c.latencyP99Ms, digits: 2),
                    Figure("requests", c.latencyRequests),
                ],
                notes: ["(same CurlTransport and sink, one request at a time at W3's rate)"]
            ),
            ReportLine(
                "CEILING",
                [
                    Figure("sqlite_insert_rows_per_s", c.sqliteInsertPerSecond, digits: 0),
                    Figure("sqlite_claim_done_rows_per_s", c.sqliteClaimDonePerSecond, digits: 0),
                ],
                notes: ["(bare SQLite, WAL, synchronous=NORMAL)"]
            ),
        ]
    }

    /// Sends `count` copies of `template` through one `CurlTransport` with `concurrency` in flight.
    static func curlCeiling(
        template: RecordedRequest,
        baseURL: String,
        count: Int,
        concurrency: Int,
        maxHostConnections: Int
    ) async throws -> (perSecond: Double, failures: Int, usage: ProcessUsage?) {
        let headers = Self.templateHeaders(template)
        let url = baseURL + template.path
        let body = template.body
        let transport = CurlTransport(maxHostConnections: maxHostConnections)
        defer { transport.shutdown() }
        // Open the connections first, as the daemon's are open after the capture event.
        await withTaskGroup(of: Void.self) { group in
            for number in 0..<(2 * maxHostConnections) {
                group.addTask {
                    let warm = [HTTPHeader("X-Herald-Event-Id", "\(ceilingGroup)warm-\(number)")]
                    _ = await transport.send(HTTPRequest(url: url, headers: headers + warm, body: body))
                }
            }
        }
        let next = SharedCounter()
        let finished = SharedCounter()
        let failures = SharedCounter()
        let before = ProcessSample.take(getpid())
        let start = monotonicNanos()
        // The daemon's way of using the transport: a completion (on the transport's thread) starts the next
        // request at once, with `concurrency` in flight.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            @Sendable func sendNext() {
                let number = next.increment()
                guard number <= count else { return }
                var request = HTTPRequest(url: url, headers: headers, body: body)
                request.headers.append(HTTPHeader("X-Herald-Event-Id", "\(ceilingGroup)-\(number)"))
                transport.start(request) { result in
                    var succeeded = false
                    if case .response(let response) = result { succeeded = (200..<300).contains(response.status) }
                    if !succeeded { _ = failures.increment() }
                    if finished.increment() == count { done.resume() }
                    sendNext()
                }
            }
            for _ in 0..<min(concurrency, count) { sendNext() }
        }
        let elapsed = Double(monotonicNanos() - start) / 1e9
        let usage = ProcessUsage(from: before, to: ProcessSample.take(getpid()))
        return (Double(count) / max(1e-9, elapsed), failures.value, usage)
    }

    /// A bare queue table like the daemon's: one batched insert of `rows`, then claim `batch` rows at a time
    /// (select the due ones through a partial index, lease them) and mark them done, each a transaction.
    static func sqliteCeiling(
        path: String,
        rows: Int,
        payload: Data,
        batch: Int
    ) throws -> (insertPerSecond: Double, claimDonePerSecond: Double) {
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE queue (
                            id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, state TEXT NOT NULL, due_at INTEGER NOT NULL,
                            attempts INTEGER NOT NULL, recipient TEXT NOT NULL, updated_at INTEGER NOT NULL,
                            payload BLOB NOT NULL);
                        CREATE INDEX queue_due ON queue (due_at, id) WHERE state IN ('pending', 'leased');
                        """
                )
            }
        } catch {
            throw BenchmarkError("ceiling: SQLite set-up failed: \(error)")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            let insertStart = monotonicNanos()
            try pool.write { db in
                let insert = try db.makeStatement(
                    sql: """
                        INSERT INTO queue (event_id, state, due_at, attempts, recipient, updated_at, payload)
                        VALUES (?, 'pending', ?, 0, ?, ?, ?)
                        """
                )
                for number in 1...rows {
                    try insert.execute(arguments: ["ceil-\(number)", now, "C0123456789", now, payload])
                }
            }
            let insertSeconds = Double(monotonicNanos() - insertStart) / 1e9
            let claimStart = monotonicNanos()
            var done = 0
            while done < rows {
                let ids: [Int64] = try pool.write { db in
                    let select = try db.cachedStatement(
                        sql: """
                            SELECT id, event_id, recipient, payload FROM queue INDEXED BY queue_due
                            WHERE state IN ('pending', 'leased') AND due_at <= ? ORDER BY due_at, id LIMIT ?
                            """
                    )
                    let lease = try db.cachedStatement(
                        sql: "UPDATE queue SET state = 'leased', due_at = ?, updated_at = ? WHERE id = ?"
                    )
                    var ids: [Int64] = []
                    let cursor = try Row.fetchCursor(select, arguments: [now, batch])
                    while let row = try cursor.next() {
                        let _: String = row[1]
                        let _: Data = row[3]
                        ids.append(row[0])
                    }
                    for id in ids { try lease.execute(arguments: [now + 60_000, now, id]) }
                    return ids
                }
                guard !ids.isEmpty else { break }
                try pool.write { db in
                    let finish = try db.cachedStatement(
                        sql: """
                            UPDATE queue SET state = 'delivered', attempts = attempts + 1, updated_at = ?
                            WHERE id = ? AND state = 'leased'
                            """
                    )
                    for id in ids { try finish.execute(arguments: [now, id]) }
                }
                done += ids.count
            }
            let claimSeconds = Double(monotonicNanos() - claimStart) / 1e9
            try pool.close()
            return (Double(rows) / max(1e-9, insertSeconds), Double(done) / max(1e-9, claimSeconds))
        } catch {
            throw BenchmarkError("ceiling: SQLite loop failed: \(error)")
        }
    }
}

/// A counter the ceiling's tasks share.
final class SharedCounter: Sendable {
    private let atomic = Atomic<Int>(0)

    /// Adds one; returns the new value.
    func increment() -> Int { atomic.add(1, ordering: .relaxed).newValue }

    var value: Int { atomic.load(ordering: .relaxed) }
}
