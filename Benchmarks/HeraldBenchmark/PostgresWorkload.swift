import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The W7 measurements: W1 on the PostgreSQL store, one run per instance count.
struct PostgresResults {
    struct Run {
        var instances: Int
        var events: Int
        var enqueueMs: Double?
        var lastDeliveryMs: Double?
        var endToEndPerSecond: Double?
        var sinkWindowPerSecond: Double?
        var duplicates = 0
        var delivered: Int?
        var usage: [ProcessUsage?] = []
    }

    var runs: [Run] = []
    var skipped: String?
}

extension BenchmarkRun {
    /// W7 (SPEC §16): the W1 burst on PostgreSQL with 1 and with 3 `herald serve` instances sharing one database
    /// (the server on this machine), each run on a fresh database, printed next to this run's SQLite W1.
    ///
    /// The server comes from `HERALD_BENCH_POSTGRES_URL` or `HERALD_TEST_POSTGRES_URL` (`scripts/with-postgres.sh`
    /// sets the latter); databases are created with the `psql` next to `HERALD_TEST_PGCTL` or on the `PATH`.
    func postgres() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let server = environment["HERALD_BENCH_POSTGRES_URL"] ?? environment["HERALD_TEST_POSTGRES_URL"],
            let components = URLComponents(string: server), let host = components.host, let user = components.user
        else {
            results.postgres = PostgresResults(
                skipped: "no server: set HERALD_BENCH_POSTGRES_URL or use scripts/with-postgres.sh"
            )
            say("W7: skipped (no PostgreSQL server configured)")
            return
        }
        let port = components.port ?? 5432
        var w7 = PostgresResults()
        for instances in [1, 3] {
            w7.runs.append(
                try postgresRun(instances: instances, host: host, port: port, user: user, psql: psqlPath(environment))
            )
        }
        results.postgres = w7
    }

    private func psqlPath(_ environment: [String: String]) -> String {
        if let pgctl = environment["HERALD_TEST_PGCTL"]?.split(separator: " ").last {
            return URL(fileURLWithPath: String(pgctl)).deletingLastPathComponent().path + "/psql"
        }
        return "psql"
    }

    private func postgresRun(
        instances: Int,
        host: String,
        port: Int,
        user: String,
        psql: String
    ) throws
        -> PostgresResults.Run
    {
        guard let workdir, let sink, let smtp else { throw BenchmarkError("no sink") }
        // One fresh database per run (`--repeat` runs W7 again in the same process).
        let database = "herald_w7_\(instances)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let (created, _) = try runToCompletion(
            "/usr/bin/env",
            [
                psql, "-h", host, "-p", "\(port)", "-U", user, "-d", "postgres", "-q", "-c",
                "CREATE DATABASE \(database)",
            ],
            outputPath: workdir + "/w7-createdb.out",
            errorPath: workdir + "/w7-createdb.err",
            seconds: 30
        )
        guard created == .exited(0) else {
            throw BenchmarkError("W7: CREATE DATABASE failed: \(readText(workdir + "/w7-createdb.err") ?? "")")
        }
        let endpoints = BenchmarkConfiguration.Endpoints(
            httpBase: sink.baseURL,
            smtpURL: smtp.url,
            slackTokenPath: workdir + "/slack-token",
            twilioTokenPath: workdir + "/twilio-token"
        )
        let store = """
            store:
              postgres:
                url: "postgres://\(user)@\(host):\(port)/\(database)?sslmode=disable"
                poolSize: 8
                pollMilliseconds: 100
            """
        var configs: [String] = []
        for index in 0..<instances {
            let generated = BenchmarkConfiguration.yaml(
                databasePath: workdir + "/unused.db",
                endpoints: endpoints,
                listenPorts: (freeLocalPort(), freeLocalPort())
            )
            let path = workdir + "/herald-w7-\(instances)-\(index).yaml"
            try write(Self.replacingStore(in: generated, with: store), to: path)
            configs.append(path)
        }
        // Migrations once, then the instances (which find the schema current).
        let (migrated, _) = try runToCompletion(
            herald,
            ["migrate", "--config", configs[0]],
            outputPath: workdir + "/w7-migrate.out",
            errorPath: workdir + "/w7-migrate.err",
            seconds: 60
        )
        guard migrated == .exited(0) else {
            throw BenchmarkError("W7: herald migrate failed: \(readText(workdir + "/w7-migrate.err") ?? "")")
        }
        let notify = try NotifySocket(directory: workdir)
        var daemons: [ChildProcess] = []
        defer {
            for daemon in daemons { _ = daemon.stop(graceSeconds: 10) }
        }
        for (index, config) in configs.enumerated() {
            let logFD = try openForWriting(workdir + "/daemon-w7-\(instances)-\(index).log")
            defer { close(logFD) }
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = notify.address
            let process = try ChildProcess.spawn(
                herald,
                ["serve", "--config", config],
                environment: environment,
                stdout: logFD,
                stderr: logFD
            )
            daemons.append(process)
            guard
                notify.wait(
                    for: "READY=1",
                    deadline: process.spawnedAt + 30_000_000_000,
                    abandon: { !process.isRunning }
                )
                    != nil
            else {
                throw BenchmarkError(
                    "W7: herald serve did not get ready" + logTail(workdir + "/daemon-w7-\(instances)-\(index).log")
                )
            }
        }
        let group = "w7x\(instances)"
        let count = options.events
        var text = ""
        text.reserveCapacity(count * 200)
        for number in 1...count {
            text += BenchmarkConfiguration.eventLine(id: "\(group)-\(number)", number: number) + "\n"
        }
        let inputPath = workdir + "/\(group).jsonl"
        try write(text, to: inputPath)
        say("W7: \(instances) instance(s) on PostgreSQL database \(database); enqueueing \(count) events")
        let before = daemons.map { ProcessSample.take($0.pid) }
        let start = monotonicNanos()
        let (enqueued, _) = try runToCompletion(
            herald,
            ["enqueue", "--config", configs[0], inputPath],
            outputPath: workdir + "/enqueue-\(group).out",
            errorPath: workdir + "/enqueue-\(group).err",
            seconds: 120
        )
        let enqueueEnd = monotonicNanos()
        guard enqueued == .exited(0) else {
            throw BenchmarkError("W7: herald enqueue failed: \(readText(workdir + "/enqueue-\(group).err") ?? "")")
        }
        let deadline = start + 180_000_000_000
        while recorder.arrivals(group).count < count {
            for daemon in daemons where daemon.poll() != nil {
                throw BenchmarkError("W7: an instance ended unexpectedly")
            }
            if monotonicNanos() >= deadline {
                throw BenchmarkError("W7: the sink saw \(recorder.arrivals(group).count) of \(count) within 180 s")
            }
            sleep(milliseconds: 5)
        }
        let arrivals = recorder.arrivals(group)
        var run = PostgresResults.Run(instances: instances, events: count)
        run.usage = zip(before, daemons).map { ProcessUsage(from: $0, to: ProcessSample.take($1.pid)) }
        run.enqueueMs = millis(enqueueEnd - start)
        run.lastDeliveryMs = millis(arrivals.last - start)
        run.endToEndPerSecond = Double(count) / max(1e-9, Double(arrivals.last - start) / 1e9)
        if count > 1 && arrivals.last > arrivals.first {
            run.sinkWindowPerSecond = Double(count - 1) / (Double(arrivals.last - arrivals.first) / 1e9)
        }
        sleep(milliseconds: 300)
        run.duplicates = recorder.arrivals(group).count - count
        let (ended, output) = try runToCompletion(
            herald,
            ["status", "--config", configs[0], "--format", "json"],
            outputPath: workdir + "/w7-status.out",
            errorPath: workdir + "/w7-status.err",
            seconds: 30
        )
        if ended == .exited(0),
            let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
            let deliveries = object["deliveries"] as? [String: Any]
        {
            run.delivered = (deliveries["delivered"] as? NSNumber)?.intValue
        }
        if run.duplicates != 0 { failedChecks.append("W7 x\(instances): \(run.duplicates) duplicate deliveries") }
        if run.delivered != count {
            failedChecks.append("W7 x\(instances): herald status reports \(run.delivered ?? -1) delivered of \(count)")
        }
        say(
            "W7: \(instances) instance(s): \(fixed(run.endToEndPerSecond ?? 0)) deliveries/s end to end, "
                + "last delivery at \(fixed(run.lastDeliveryMs ?? 0)) ms"
        )
        return run
    }

    /// The generated configuration with its `store:` section replaced.
    static func replacingStore(in yaml: String, with store: String) -> String {
        var lines: [String] = []
        var skipping = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "store:" {
                skipping = true
                lines.append(store)
                continue
            }
            if skipping {
                if line.hasPrefix(" ") { continue }
                skipping = false
            }
            lines.append(String(line))
        }
        return lines.joined(separator: "\n")
    }

    /// The W7 lines: each instance count next to this run's SQLite W1.
    func postgresSummary() -> [ReportLine] {
        guard options.runs(.w7) else { return [ReportLine("W7", [], notes: ["skipped"])] }
        guard let w7 = results.postgres else { return [ReportLine("W7", [], notes: ["incomplete"])] }
        if let skipped = w7.skipped { return [ReportLine("W7", [], notes: ["skipped: \(skipped)"])] }
        let sqlite = results.endToEndPerSecond
        var lines: [ReportLine] = []
        for run in w7.runs {
            let ratio = zip(run.endToEndPerSecond, sqlite).map { $0 / max(1e-9, $1) }
            lines.append(
                ReportLine(
                    "W7x\(run.instances)",
                    [
                        Figure("deliveries_per_s", run.endToEndPerSecond, digits: 0, target: .atLeast(5_000)),
                        Figure("ratio_to_sqlite_w1", ratio, digits: 3, target: .atLeast(0.5)),
                        Figure("ratio_to_ceiling", ratioToCurl(run.endToEndPerSecond), digits: 3),
                        Figure("sink_window_per_s", run.sinkWindowPerSecond, digits: 0),
                        Figure("enqueue_ms", run.enqueueMs),
                        Figure("last_delivery_ms", run.lastDeliveryMs),
                        Figure("duplicates", run.duplicates, target: .atMost(0)),
                        Figure("delivered", run.delivered),
                    ],
                    notes: sqlite == nil ? ["no SQLite W1 in this run to compare with (add w1 to --workloads)"] : []
                )
            )
            let cpu = run.usage.compactMap { $0?.cpuSeconds }.reduce(0, +)
            lines.append(
                ReportLine(
                    "W7x\(run.instances)",
                    [Figure("daemons_cpu_us_per_delivery", cpu * 1e6 / Double(max(1, run.events)), digits: 1)]
                )
            )
        }
        return lines
    }
}

private func zip(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b else { return nil }
    return (a, b)
}
