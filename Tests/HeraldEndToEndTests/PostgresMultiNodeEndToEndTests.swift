import Foundation
import HeraldTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The throwaway PostgreSQL server `scripts/with-postgres.sh` started (CI always does), reached through its
/// own tools: `psql` for SQL, `pg_ctl` for the restart.
struct PostgresServer {
    let url: String
    let host: String
    let port: String
    let user: String
    /// The command prefix that runs `pg_ctl` as the cluster's owner, and the data directory.
    let pgctl: [String]
    let data: String
    let psql: String

    static let current: PostgresServer? = {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["HERALD_TEST_POSTGRES_URL"], let components = URLComponents(string: url),
            let host = components.host, let port = components.port, let user = components.user,
            let pgctl = environment["HERALD_TEST_PGCTL"], let data = environment["HERALD_TEST_PGDATA"]
        else { return nil }
        let command = pgctl.split(separator: " ").map(String.init)
        let bindir = URL(fileURLWithPath: command.last ?? "").deletingLastPathComponent().path
        return PostgresServer(
            url: url,
            host: host,
            port: String(port),
            user: user,
            pgctl: command,
            data: data,
            psql: bindir + "/psql"
        )
    }()

    static var isAvailable: Bool {
        if current == nil {
            print(
                "skipping PostgreSQL multi-node tests: HERALD_TEST_POSTGRES_URL is not set (run scripts/with-postgres.sh)"
            )
        }
        return current != nil
    }

    /// Runs SQL through `psql` on `database`; returns its output (tuples only, unaligned).
    @discardableResult
    func sql(_ statements: String, database: String = "herald") throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psql)
        process.arguments = [
            "-h", host, "-p", port, "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-t", "-A",
            "-c", statements,
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("psql failed: \(problems)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates an empty database; returns its name.
    func createDatabase() throws -> String {
        let name = "herald_e2e_\(UInt32.random(in: 0...UInt32.max))"
        try sql("CREATE DATABASE \(name)", database: "postgres")
        return name
    }

    /// `store:` lines for a database on this server.
    func storeLines(database: String, pollMilliseconds: Int = 100, listen: Bool = true) -> [String] {
        [
            "  postgres:",
            "    url: \"postgres://\(user)@\(host):\(port)/\(database)?sslmode=disable\"",
            "    poolSize: 4",
            "    pollMilliseconds: \(pollMilliseconds)",
            "    listen: \(listen)",
        ]
    }

    /// `pg_ctl restart -m fast`: every connection is closed; the server is back when this returns.
    func restart() throws {
        try pgctl(["-m", "fast", "-w", "-t", "180", "restart", "-l", data + "/../restart.log"])
    }

    /// `pg_ctl stop -m immediate`: the server is gone at once, as if it crashed (it recovers when started).
    func stopImmediately() throws {
        try pgctl(["-m", "immediate", "-w", "stop"])
    }

    /// `pg_ctl start`: the server accepts connections when this returns.
    func start() throws {
        try pgctl(["-w", "-t", "180", "start", "-l", data + "/../restart.log"])
    }

    private func pgctl(_ command: [String]) throws {
        // posix_spawn and waitpid rather than Foundation's Process: a started server outlives pg_ctl, and it must
        // inherit none of this process's pipes.
        let arguments = ["/usr/bin/env"] + pgctl + ["-D", data] + command
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(
                &actions,
                descriptor,
                "/dev/null",
                descriptor == 0 ? O_RDONLY : O_WRONLY,
                0
            )
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/env", &actions, nil, &argv, environ) == 0 else {
            throw HarnessError("cannot start pg_ctl")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw HarnessError("pg_ctl \(command) failed (wait status \(status))") }
    }
}

/// Several real `herald serve` processes on one PostgreSQL database (SPEC §13, §17 multi-node).
@Suite("PostgreSQL: several instances (real executables)", .serialized, .enabled(if: PostgresServer.isAvailable))
struct PostgresMultiNodeEndToEndTests {
    /// A work directory whose configuration points at a fresh database.
    private func environment(
        _ server: PostgresServer,
        concurrency: Int = 128,
        lease: Int = 10,
        listen: Bool = true
    ) throws -> (HeraldEnvironment, String) {
        let database = try server.createDatabase()
        var config = HeraldConfig()
            .with(worker: "concurrency", "\(concurrency)")
            .with(worker: "batchSize", "128")
            .with(worker: "leaseSeconds", "\(lease)")
            .with(worker: "maxHostConnections", "16")
        config.logLevel = "info"
        config.store = server.storeLines(database: database, listen: listen)
        return (try HeraldEnvironment(config: config), database)
    }

    private func events(_ count: Int, to base: String, paths: Int = 10, label: String = "multi") -> Data {
        EventJSON.lines(
            (0..<count).map { n in
                EventJSON.object(text: "\(label) \(n)", recipients: [("webhook", "\(base)/hook/\(n % paths)")])
            }
        )
    }

    @Test("three instances deliver every event exactly once", .timeLimit(.minutes(2)))
    func threeInstancesExactlyOnce() async throws {
        let server = try #require(PostgresServer.current)
        let ledger = EventLedger()
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            ledger.record(request.header("X-Herald-Delivery-Id") ?? "?")
            return .ok
        }
        let (env, database) = try environment(server)
        defer { env.close() }
        let daemons = [try env.launchDaemon(), try env.launchDaemon(), try env.launchDaemon()]
        for daemon in daemons { try await daemon.waitUntilReady(timeout: .seconds(30)) }
        let total = 3000
        let ids = try await env.enqueueAccepted(events(total, to: sink.baseURL))
        try #require(ids.count == total)
        try await eventually("\(total) requests (got \(ledger.all.count))", timeout: .seconds(60)) {
            ledger.all.count >= total
        }
        try await env.waitForStatus("\(total) delivered", timeout: .seconds(20)) {
            $0.deliveries("delivered") == total
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(ledger.all.count == total, "no delivery sent twice")
        #expect(ledger.distinctCount == total)
        let instances = try server.sql("SELECT count(*) FROM herald.instances", database: database)
        #expect(instances == "3", "three instances registered")
        let registered = try #require(try await env.status().instances, "herald status lists the instances")
        #expect(Set(registered.map(\.pid)) == Set(daemons.map(\.pid)), "each instance by its pid")
        #expect(registered.allSatisfy { !$0.host.isEmpty && $0.id.contains(":\($0.pid):") && $0.secondsSinceSeen < 30 })
        #expect(registered.allSatisfy { $0.startedAt <= $0.lastSeen }, "RFC 3339 UTC times sort as text")
        let text = try await env.run(["status"])
        #expect(text.stdout.contains("instances:") && text.stdout.contains("pid=\(daemons[0].pid)"), "\(text.stdout)")
        let owners = try server.sql(
            "SELECT count(DISTINCT delivery_id) FROM herald.attempts",
            database: database
        )
        #expect(owners == "\(total)", "one attempt recorded per delivery")
        for daemon in daemons { #expect(daemon.isRunning) }
        try await sink.shutdown()
    }

    @Test(
        "kill -9 of one of three instances: every event delivered, duplicates within its in-flight set",
        .timeLimit(.minutes(2))
    )
    func killOneOfThree() async throws {
        let server = try #require(PostgresServer.current)
        let ledger = EventLedger()
        let killSwitch = KillSwitch()
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            let count = ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            if count == 1000 { killSwitch.fire() }
            return .delay(0.002, .ok)
        }
        let concurrency = 128
        let (env, _) = try environment(server, concurrency: concurrency, lease: 5)
        defer { env.close() }
        let total = 4000
        let ids = try await env.enqueueAccepted(events(total, to: sink.baseURL))
        let victim = try env.launchDaemon()
        killSwitch.arm(pid: victim.pid)
        let others = [try env.launchDaemon(), try env.launchDaemon()]
        try await victim.waitUntilReady(timeout: .seconds(30))
        for daemon in others { try await daemon.waitUntilReady(timeout: .seconds(30)) }
        try await eventually("the victim killed", timeout: .seconds(60)) { killSwitch.hasFired }
        #expect(await victim.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
        try await eventually("\(total) distinct events (got \(ledger.distinctCount))", timeout: .seconds(60)) {
            ledger.distinctCount >= total
        }
        try await env.waitForStatus("\(total) delivered", timeout: .seconds(30)) {
            $0.deliveries("delivered") == total
        }
        let seen = ledger.all
        let duplicates = seen.count - Set(seen).count
        print("kill -9 of one of three: \(seen.count) requests for \(Set(seen).count) events, \(duplicates) duplicates")
        #expect(Set(seen) == Set(ids))
        #expect(duplicates <= concurrency + 128, "duplicates limited to the victim's in-flight set and claim")
        for daemon in others { #expect(daemon.isRunning) }
        try await sink.shutdown()
    }

    @Test("PostgreSQL restarted mid-run: every instance recovers, nothing lost", .timeLimit(.minutes(2)))
    func databaseRestart() async throws {
        try await PostgresServerLock.shared.alone { try await self.databaseRestartBody() }
    }

    private func databaseRestartBody() async throws {
        let server = try #require(PostgresServer.current)
        let ledger = EventLedger()
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            return .delay(0.005, .ok)
        }
        let (env, _) = try environment(server, concurrency: 32)
        defer { env.close() }
        let daemons = [try env.launchDaemon(), try env.launchDaemon(), try env.launchDaemon()]
        for daemon in daemons { try await daemon.waitUntilReady(timeout: .seconds(30)) }
        let total = 3000
        let ids = try await env.enqueueAccepted(events(total, to: sink.baseURL))
        try await eventually("some deliveries before the restart", timeout: .seconds(30)) { ledger.all.count >= 300 }
        try server.restart()
        print("restarted PostgreSQL after \(ledger.all.count) requests")
        // Intake during and after the restart: answered, or refused as unavailable (exit 75), never lost.
        let late = try await env.enqueue(events(10, to: sink.baseURL, label: "late"))
        #expect([0, 75].contains(late.exitCode), "\(late)")
        let lateIds = late.stdoutLines.compactMap { $0.hasPrefix("accepted ") ? String($0.dropFirst(9)) : nil }
        let expected = Set(ids).union(lateIds)
        try await eventually("\(expected.count) distinct events (got \(ledger.distinctCount))", timeout: .seconds(60)) {
            ledger.distinct.isSuperset(of: expected)
        }
        for daemon in daemons { #expect(daemon.isRunning, "an instance crashed:\n\(daemon.logTail(lines: 20))") }
        try await sink.shutdown()
    }

    @Test(
        "PostgreSQL down: intake answers 503 and the CLI 75, the instances wait it out and lose nothing",
        .timeLimit(.minutes(3))
    )
    func databaseDown() async throws {
        try await PostgresServerLock.shared.alone { try await self.databaseDownBody() }
    }

    private func databaseDownBody() async throws {
        let server = try #require(PostgresServer.current)
        let ledger = EventLedger()
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            return .delay(0.005, .ok)
        }
        let database = try server.createDatabase()
        var config = HeraldConfig().with(worker: "concurrency", "32").with(worker: "leaseSeconds", "10")
        config.logLevel = "info"
        config.apiListen = "127.0.0.1:0"
        config.store = server.storeLines(database: database)
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let daemons = [try env.launchDaemon(), try env.launchDaemon()]
        var ports: [Int] = []
        for daemon in daemons {
            try await daemon.waitUntilReady(timeout: .seconds(30))
            ports.append(try #require(daemon.apiPort, "no api listening line:\n\(daemon.logTail(lines: 20))"))
        }
        let hook = "\(sink.baseURL)/hook"
        func batch(_ label: String, _ count: Int) -> String {
            let events = (0..<count).map { n in
                EventJSON.line(EventJSON.object(id: "\(label)-\(n)", recipients: [("webhook", "\(hook)/\(n % 10)")]))
            }
            return #"{"events":[\#(events.joined(separator: ","))]}"#
        }
        var acknowledged: Set<String> = []
        for (index, port) in ports.enumerated() {
            let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
            for round in 0..<4 {
                let response = try await EndToEndTests.post(client, batch("before-\(index)-\(round)", 250))
                #expect(response.status == 202)
                acknowledged.formUnion(try EndToEndTests.acceptedIds(response))
            }
            await client.close()
        }
        #expect(acknowledged.count == 2000)
        try await eventually("deliveries under way", timeout: .seconds(30)) { ledger.all.count >= 100 }

        try server.stopImmediately()
        print("stopped PostgreSQL after \(ledger.all.count) requests")
        for (index, port) in ports.enumerated() {
            let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
            let started = ContinuousClock.now
            let refused = try await EndToEndTests.post(client, batch("during-\(index)", 3))
            print("instance \(index): \(refused.status) after \(ContinuousClock.now - started)")
            #expect(refused.status == 503, "\(String(decoding: refused.body, as: UTF8.self))")
            let envelope = try JSONSerialization.jsonObject(with: refused.body) as? [String: Any]
            #expect((envelope?["error"] as? [String: Any])?["code"] as? String == "STORE_UNAVAILABLE")
            #expect(refused.header("Retry-After").flatMap(Int.init).map { $0 > 0 } == true, "Retry-After")
            await client.close()
        }
        let cli = try await env.enqueue(events(2, to: sink.baseURL, label: "cli-during"))
        #expect(cli.exitCode == 75, "\(cli)")
        #expect(!cli.stdout.contains("accepted "), "nothing acknowledged while the database is down")
        // The instances wait it out: their stages fail, log and retry with backoff; none exits.
        try await Task.sleep(for: .seconds(2))
        for daemon in daemons { #expect(daemon.isRunning, "an instance exited:\n\(daemon.logTail(lines: 20))") }

        try server.start()
        print("started PostgreSQL again; \(ledger.all.count) requests so far")
        // Intake comes back on every instance (the pools reconnect).
        for (index, port) in ports.enumerated() {
            var accepted: [String] = []
            try await eventually(
                "instance \(index) accepts events again",
                timeout: .seconds(30),
                every: .milliseconds(250)
            ) {
                guard let client = try? await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port) else {
                    return false
                }
                defer { Task { await client.close() } }
                guard let response = try? await EndToEndTests.post(client, batch("after-\(index)", 5)),
                    response.status == 202
                else { return false }
                accepted = (try? EndToEndTests.acceptedIds(response)) ?? []
                return true
            }
            #expect(accepted.count == 5)
            acknowledged.formUnion(accepted)
        }
        try await eventually(
            "every acknowledged event delivered (\(ledger.distinctCount) of \(acknowledged.count))",
            timeout: .seconds(90)
        ) { ledger.distinct.isSuperset(of: acknowledged) }
        #expect(ledger.distinct.isDisjoint(with: ["during-0-0", "during-1-0"]), "refused events were not stored")
        for daemon in daemons { #expect(daemon.isRunning, "an instance crashed:\n\(daemon.logTail(lines: 20))") }
        try await sink.shutdown()
    }

    @Test("connections killed with pg_terminate_backend for 10 s: nothing lost", .timeLimit(.minutes(2)))
    func terminatedBackends() async throws {
        let server = try #require(PostgresServer.current)
        let ledger = EventLedger()
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            return .delay(0.005, .ok)
        }
        let (env, database) = try environment(server, concurrency: 32)
        defer { env.close() }
        let daemons = [try env.launchDaemon(), try env.launchDaemon(), try env.launchDaemon()]
        for daemon in daemons { try await daemon.waitUntilReady(timeout: .seconds(30)) }
        let total = 3000
        let ids = try await env.enqueueAccepted(events(total, to: sink.baseURL))
        let deadline = ContinuousClock.now + .seconds(10)
        var killed = 0
        while ContinuousClock.now < deadline {
            let count = try server.sql(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = '\(database)' AND pid <> pg_backend_pid()
                """
            )
            killed += Int(count) ?? 0
            try await Task.sleep(for: .milliseconds(300))
        }
        print("terminated \(killed) backends in 10 s; \(ledger.all.count) requests so far")
        #expect(killed > 0)
        try await eventually("\(total) distinct events (got \(ledger.distinctCount))", timeout: .seconds(60)) {
            ledger.distinctCount >= total
        }
        #expect(ledger.distinct == Set(ids))
        for daemon in daemons { #expect(daemon.isRunning, "an instance crashed:\n\(daemon.logTail(lines: 20))") }
        try await sink.shutdown()
    }

    @Test(
        "an instance stopped past its lease: its late outcomes are refused, nothing recorded twice",
        .timeLimit(.minutes(2))
    )
    func stoppedPastItsLease() async throws {
        let server = try #require(PostgresServer.current)
        let ledger = EventLedger()
        let stopper = KillSwitch()
        let held = Atomic<Int>(0)
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            let count = ledger.record(request.header("X-Herald-Delivery-Id") ?? "?")
            if count == 20 {
                stopper.fire(SIGSTOP)
            }
            // The first requests are answered slowly, so the stopped instance has outcomes still to record.
            if count <= 40 {
                held.add(1, ordering: .relaxed)
                return .delay(0.5, .ok)
            }
            return .ok
        }
        let (env, database) = try environment(server, concurrency: 32, lease: 5)
        defer { env.close() }
        let total = 200
        _ = try await env.enqueueAccepted(events(total, to: sink.baseURL))
        let sleeper = try env.launchDaemon()
        stopper.arm(pid: sleeper.pid)
        try await sleeper.waitUntilReady(timeout: .seconds(30))
        try await eventually("the first instance stopped", timeout: .seconds(30)) { stopper.hasFired }
        let other = try await env.startDaemon(readyWithin: .seconds(30))
        try await env.waitForStatus("\(total) delivered by the other instance", timeout: .seconds(60)) {
            $0.deliveries("delivered") == total
        }
        sleeper.signal(SIGCONT)
        try await eventually("the resumed instance reports its lost leases", timeout: .seconds(20)) {
            sleeper.stdoutText.contains("lease lost")
        }
        let twice = try server.sql(
            "SELECT count(*) FROM (SELECT delivery_id FROM herald.attempts GROUP BY delivery_id HAVING count(*) > 1) t",
            database: database
        )
        #expect(twice == "0", "no delivery has two recorded attempts")
        let delivered = try server.sql(
            "SELECT count(*) FROM herald.deliveries WHERE state = 'delivered' AND attempts = 1",
            database: database
        )
        #expect(delivered == "\(total)")
        #expect(sleeper.isRunning && other.isRunning)
        try await sink.shutdown()
    }

    @Test("a Retry-After answered to one instance pauses the destination for all three", .timeLimit(.minutes(2)))
    func sharedRetryAfter() async throws {
        let server = try #require(PostgresServer.current)
        let pausedAt = Mutex<Date?>(nil)
        let early = Mutex<[Date]>([])
        let ledger = EventLedger()
        let pause = 4.0
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            let now = Date()
            return pausedAt.withLock { at in
                guard let start = at else {
                    at = now
                    return .status(429, retryAfter: "\(Int(pause))")
                }
                if now.timeIntervalSince(start) < pause { early.withLock { $0.append(now) } }
                return .ok
            }
        }
        let (env, _) = try environment(server, concurrency: 16)
        defer { env.close() }
        let daemons = [try env.launchDaemon(), try env.launchDaemon(), try env.launchDaemon()]
        for daemon in daemons { try await daemon.waitUntilReady(timeout: .seconds(30)) }
        _ = try await env.enqueueAccepted(events(1, to: sink.baseURL, paths: 1, label: "first"))
        try await eventually("the 429", timeout: .seconds(20)) { pausedAt.withLock { $0 != nil } }
        // Let the instance that got it record the pause, then stop it: only the two others can send now, and
        // they know of the pause only through the database.
        var answered: DaemonProcess?
        try await eventually("the instance that got the 429 logs the pause", timeout: .seconds(10)) {
            answered = daemons.first { $0.stdoutText.contains("destination paused") }
            return answered != nil
        }
        try await Task.sleep(for: .milliseconds(300))
        answered?.signal(SIGSTOP)
        defer { answered?.signal(SIGCONT) }
        let start = try #require(pausedAt.withLock { $0 })
        let more = 30
        let ids = try await env.enqueueAccepted(events(more, to: sink.baseURL, paths: 1, label: "later"))
        try await eventually("\(more + 1) events delivered", timeout: .seconds(40)) {
            ledger.distinctCount >= more + 1
        }
        answered?.signal(SIGCONT)
        let violations = early.withLock { $0 }.filter { $0.timeIntervalSince(start) > 0.3 }
        #expect(violations.isEmpty, "\(violations.count) requests reached the paused destination before Retry-After")
        #expect(ledger.distinct.isSuperset(of: ids))
        for daemon in daemons { #expect(daemon.isRunning) }
        try await sink.shutdown()
    }

    @Test("three instances send to a rate-limited destination at its rate in total", .timeLimit(.minutes(2)))
    func sharedRateLimit() async throws {
        let server = try #require(PostgresServer.current)
        let arrivals = Mutex<[Date]>([])
        let ledger = EventLedger()
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            arrivals.withLock { $0.append(Date()) }
            return .ok
        }
        let (perSecond, burst) = (20.0, 5)
        let database = try server.createDatabase()
        var config = HeraldConfig().with(worker: "concurrency", "32").with(worker: "leaseSeconds", "10")
        config.logLevel = "info"
        config.rateLimit = "{ perSecond: \(Int(perSecond)), burst: \(burst) }"
        config.store = server.storeLines(database: database)
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let daemons = [try env.launchDaemon(), try env.launchDaemon(), try env.launchDaemon()]
        for daemon in daemons { try await daemon.waitUntilReady(timeout: .seconds(30)) }
        let total = 120
        let ids = try await env.enqueueAccepted(events(total, to: sink.baseURL, paths: 1, label: "paced"))
        try await eventually("\(total) events delivered (got \(ledger.distinctCount))", timeout: .seconds(60)) {
            ledger.distinctCount >= total
        }
        let times = arrivals.withLock { $0 }.sorted()
        let span = try #require(times.last).timeIntervalSince(try #require(times.first))
        print("rate-limited destination: \(times.count) requests in \(span) s from three instances")
        // One bucket for the three: after the burst, one request per 1/perSecond at most (each instance alone
        // would be allowed as many, three times the rate together). Loose bounds: these are wall-clock arrivals.
        #expect(span >= Double(total - burst) / perSecond * 0.85, "\(total) requests in \(span) s")
        var busiest = 0
        for (index, start) in times.enumerated() {
            busiest = max(busiest, times[index...].prefix { $0.timeIntervalSince(start) < 1 }.count)
        }
        #expect(busiest <= burst + Int(perSecond) + 4, "\(busiest) requests within one second")
        let once = try server.sql(
            "SELECT count(*) FROM herald.deliveries WHERE state = 'delivered' AND attempts = 1",
            database: database
        )
        #expect(once == "\(total)", "each delivered once")
        #expect(ledger.distinct == Set(ids))
        for daemon in daemons { #expect(daemon.isRunning) }
        try await sink.shutdown()
    }

    @Test(
        "outbox: a rolled-back insert delivers nothing, a committed one once, an invalid one is rejected",
        .timeLimit(.minutes(2))
    )
    func transactionalOutbox() async throws {
        let server = try #require(PostgresServer.current)
        let ledger = EventLedger()
        let sink = try await FakeVendorServer.start(recordRequests: false) { request in
            ledger.record(request.header("X-Herald-Event-Id") ?? "?")
            return .ok
        }
        let (env, database) = try environment(server, listen: false)
        defer { env.close() }
        let daemon = try await env.startDaemon(readyWithin: .seconds(30))
        func event(_ id: String) -> String {
            EventJSON.line(EventJSON.object(id: id, recipients: [("webhook", "\(sink.baseURL)/hook/outbox")]))
                .replacingOccurrences(of: "'", with: "''")
        }
        try server.sql(
            """
            BEGIN;
            CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY);
            INSERT INTO orders VALUES (1);
            SELECT herald.enqueue_event('\(event("evt_rolled_back"))'::jsonb);
            ROLLBACK;
            """,
            database: database
        )
        try server.sql(
            """
            BEGIN;
            CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY);
            INSERT INTO orders VALUES (2);
            SELECT herald.enqueue_event('\(event("evt_committed"))'::jsonb);
            COMMIT;
            """,
            database: database
        )
        let invalid = #"{"id": "evt_invalid", "key": "test_notice", "organization": "acme", "data": {"title": 7}}"#
        try server.sql("SELECT herald.enqueue_event('\(invalid)'::jsonb)", database: database)
        try await eventually("the committed event delivered", timeout: .seconds(20)) {
            ledger.distinct.contains("evt_committed")
        }
        let explained = try await env.run(["explain", "evt_invalid"])
        #expect(explained.exitCode == 0, "\(explained)")
        #expect(explained.stdout.contains("state=rejected"), "\(explained.stdout)")
        #expect(explained.stdout.contains("rejected: "), "\(explained.stdout)")
        try await Task.sleep(for: .seconds(1))
        #expect(ledger.all.filter { $0 == "evt_committed" }.count == 1, "delivered once")
        #expect(!ledger.distinct.contains("evt_rolled_back"))
        #expect(!ledger.distinct.contains("evt_invalid"))
        let outbox = try server.sql("SELECT count(*) FROM herald.outbox", database: database)
        #expect(outbox == "0", "the outbox is drained; the invalid event is not retried")
        let rolledBack = try await env.run(["explain", "evt_rolled_back"])
        #expect(rolledBack.exitCode != 0, "a rolled-back event does not exist")
        #expect(daemon.isRunning)
        try await sink.shutdown()
    }
}
