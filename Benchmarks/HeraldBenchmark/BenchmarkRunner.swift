import Foundation
import Synchronization
import HeraldTesting

#if canImport(Glibc)
import Glibc
#endif

/// Entry point: parses the arguments, runs every phase, prints the summary.
enum BenchmarkRunner {
    /// Runs the benchmark; returns the process exit code.
    static func main(arguments: [String]) async -> Int32 {
        let options: Options
        do {
            guard let parsed = try Options.parse(arguments) else {
                say(Options.usage)
                return 0
            }
            options = parsed
        } catch {
            FileHandle.standardError.write(Data("herald-benchmark: \(error)\n".utf8))
            return 64
        }
        var report = RepeatedReport()
        var failed = false
        for round in 1...options.repeats {
            if options.repeats > 1 { say("==== herald-benchmark run \(round) of \(options.repeats) ====") }
            let run = BenchmarkRun(options: options)
            do {
                try await run.execute()
                report.runs.append(run.summaryLines())
                failed = failed || !run.failedChecks.isEmpty
            } catch {
                say("ERROR \(error)")
                ChildRegistry.killAll()
                await run.shutdownSink()
                if let workdir = run.workdir { say("workdir kept for inspection: \(workdir)") }
                return 1
            }
        }
        if options.repeats > 1 {
            say("")
            say("==== herald-benchmark: median [min..max] of \(options.repeats) runs ====")
            for line in report.aggregated { say(line) }
            say("==================================")
        }
        return failed ? 1 : 0
    }
}

/// Prints a line and flushes, so progress shows up when stdout is a pipe.
func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// One benchmark run: the sink, the generated configuration, the daemon and the measurements.
final class BenchmarkRun {
    let options: Options
    private(set) var workdir: String?
    private var createdWorkdir = false
    var herald = ""
    var configPath = ""
    var sink: FakeVendorServer?
    var smtp: FakeSMTPServer?
    let recorder: SinkRecorder
    var daemon: ChildProcess?
    var daemonLogs: [String] = []
    /// The port of `server.listen` (the HTTP API).
    var apiPort = 0
    var results = Results()
    /// Deliveries `herald status` must report as delivered after the workloads run so far.
    var expectedDelivered = 0
    /// Checks that failed (wrong counts, wrong recipients); reported in the summary, exit code 1.
    var failedChecks: [String] = []

    /// The measurements, printed in the summary.
    struct Results {
        var freshStartupMs: Double?
        var startupMs: Double?
        var idleRSSKB: Int?
        /// Of the idle RSS: heap, stacks and written pages (`RssAnon`) and mapped file pages (`RssFile`: the
        /// binary's and shared libraries' code and read-only data, clean and shared with other processes).
        var idleAnonKB: Int?
        var idleFileKB: Int?
        var enqueueMs: Double?
        var firstDeliveryMs: Double?
        var lastDeliveryMs: Double?
        var endToEndPerSecond: Double?
        var sinkWindowPerSecond: Double?
        var peakRSSKB: Int?
        var sampledPeakRSSKB: Int?
        var rssAfterW1KB: Int?
        var w1Delivered: Int?
        var latencyCount: Int?
        var latency: (p50: Double, p90: Double, p99: Double, max: Double, mean: Double)?
        var rssAfterRunKB: Int?
        var overallPeakRSSKB: Int?
        var mixed: MixedResults?
        var fanOut: FanOutResults?
        var postgres: PostgresResults?
        var shutdownMs: Double?
        var exitCode: Int32?
        var ceilings: Ceilings?
        /// What the daemon did during W1 and W3 (CPU, context switches), from /proc.
        var w1Usage: ProcessUsage?
        /// W1-HTTP and W6 (HTTPWorkload.swift).
        var httpBatches: HTTPIntakeResults?
        var httpSingles: HTTPIntakeResults?
        var preferencesGet: HTTPRequestResults?
        /// W6's ceiling: `GET /healthz` (no auth, no store, a constant body) through the same server, load
        /// generator and connections, in the same run.
        var healthzCeiling: HTTPRequestResults?
        var preferencesPatch: HTTPRequestResults?
        var latencyUsage: ProcessUsage?
    }

    init(options: Options) {
        self.options = options
        let latencyEvents = !options.runs(.w3) ? 0 : Int((options.latencyRate * options.latencySeconds).rounded())
        recorder = SinkRecorder(expectedLatencyEvents: latencyEvents)
    }

    /// Runs every phase in order; throws on the first error (missing deliveries, daemon failure).
    func execute() async throws {
        try await setUp()
        try measureStartup()
        if !options.skipCeiling { try await measureCeilings() }
        for workload in options.workloads {
            switch workload {
            case .w1: try burst()
            case .w3: try latencyRun()
            case .w2: try mixed()
            case .w5: try fanOut()
            case .w7: try postgres()
            case .w1http: try await intakeOverHTTP()
            case .w6: try await preferencesOverHTTP()
            }
        }
        try stopDaemon()
        await shutdownSink()
        printSummary()
        if createdWorkdir && !options.keepWorkdir, let workdir {
            try? FileManager.default.removeItem(atPath: workdir)
            self.workdir = nil
        } else if let workdir {
            say("workdir: \(workdir)")
        }
    }

    /// Stops the sinks (idempotent).
    func shutdownSink() async {
        if let sink {
            try? await sink.shutdown()
            self.sink = nil
        }
        if let smtp {
            try? await smtp.shutdown()
            self.smtp = nil
        }
    }

    // MARK: - Set-up

    private func setUp() async throws {
        herald = options.heraldPath
        guard access(herald, X_OK) == 0 else {
            throw BenchmarkError("--herald: \(herald) is not an executable file (build it: swift build -c release)")
        }
        let directory = try prepareWorkdir()
        workdir = directory
        let recorder = self.recorder
        let sink = try await FakeVendorServer.start(
            host: "127.0.0.1",
            port: 0,
            recordBodies: false,
            recordRequests: false,
            threads: options.sinkThreads,
            onRequest: { recorder.record($0) },
            handler: { Self.sinkResponse($0.path) }
        )
        self.sink = sink
        let smtp = try await FakeSMTPServer.start(
            host: "127.0.0.1",
            port: 0,
            hook: { verb, _ in
                if verb == "EOM" { recorder.recordMail() }
                return nil
            }
        )
        self.smtp = smtp
        let endpoints = BenchmarkConfiguration.Endpoints(
            httpBase: sink.baseURL,
            smtpURL: smtp.url,
            slackTokenPath: directory + "/slack-token",
            twilioTokenPath: directory + "/twilio-token"
        )
        try write("xoxb-0000000000-0000000000000-benchmarkbenchmarkbench\n", to: endpoints.slackTokenPath)
        try write("0123456789abcdef0123456789abcdef\n", to: endpoints.twilioTokenPath)
        configPath = directory + "/herald.yaml"
        apiPort = freeLocalPort()
        try APIBenchmarkConfiguration.writeSecrets(directory: directory)
        try write(
            BenchmarkConfiguration.yaml(
                databasePath: directory + "/herald.db",
                endpoints: endpoints,
                listenPorts: (apiPort, freeLocalPort())
            ),
            to: configPath
        )
        say(
            "herald-benchmark: herald=\(herald) workdir=\(directory) sink=\(sink.baseURL) smtp=\(smtp.url)"
                + " cores=\(cores()) workloads=\(options.workloads.map(\.rawValue).joined(separator: ","))"
        )
        let (ended, output) = try runToCompletion(
            herald,
            ["check-config", "--config", configPath],
            outputPath: directory + "/check-config.out",
            errorPath: directory + "/check-config.err",
            seconds: 30
        )
        guard ended == .exited(0) else {
            let reason = readText(directory + "/check-config.err") ?? ""
            throw BenchmarkError("herald check-config failed (\(ended)): \(reason.trimmed)")
        }
        say("check-config: \(output.trimmed)")
    }

    /// What the HTTP sink answers, by path: the success response of each provider.
    private static func sinkResponse(_ path: String) -> FakeResponse {
        switch SinkRecorder.Channel(path: path) {
        case .slack: .json(200, #"{"ok":true,"ts":"1.1"}"#)
        case .msteams: .status(202)
        case .pagerduty: .json(202, #"{"status":"success","dedup_key":"x"}"#)
        case .sms: .json(201, #"{"sid":"SM1","status":"queued"}"#)
        case .email, .other: .status(404, body: "not found")
        }
    }

    private func prepareWorkdir() throws -> String {
        let manager = FileManager.default
        guard let requested = options.workdir else {
            let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array((base + "/herald-bench-XXXXXX").utf8CString)
            guard mkdtemp(&template) != nil else {
                throw BenchmarkError("cannot create a temporary directory under \(base)")
            }
            createdWorkdir = true
            return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let absolute = requested.hasPrefix("/") ? requested : manager.currentDirectoryPath + "/" + requested
        try manager.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        for suffix in ["", "-wal", "-shm"] {
            try? manager.removeItem(atPath: absolute + "/herald.db" + suffix)
        }
        return absolute
    }

    // MARK: - Start-up

    private func measureStartup() throws {
        guard let workdir else { return }
        let notify = try NotifySocket(directory: workdir)
        let first = try startDaemon(notify: notify, log: "daemon-fresh.log")
        results.freshStartupMs = first.readyMs
        say("startup (fresh database): READY=1 after \(fixed(first.readyMs)) ms")
        let ended = first.process.stop(graceSeconds: 30)
        daemon = nil
        guard ended == .exited(0) else {
            throw BenchmarkError(
                "first daemon did not exit 0 on SIGTERM: \(ended.map(\.description) ?? "had to be killed")"
                    + logTail(workdir + "/daemon-fresh.log")
            )
        }
        notify.drain()
        let second = try startDaemon(notify: notify, log: "daemon.log")
        results.startupMs = second.readyMs
        say("startup (existing database): READY=1 after \(fixed(second.readyMs)) ms")
        sleep(milliseconds: 1000)
        try requireDaemonRunning()
        results.idleRSSKB = procStatusKB(second.process.pid, "VmRSS")
        results.idleAnonKB = procStatusKB(second.process.pid, "RssAnon")
        results.idleFileKB = procStatusKB(second.process.pid, "RssFile")
        say("idle RSS 1 s after READY=1: \(megabytes(results.idleRSSKB)) MB")
    }

    private func startDaemon(notify: NotifySocket, log: String) throws -> (process: ChildProcess, readyMs: Double) {
        guard let workdir else { throw BenchmarkError("no workdir") }
        var environment = ProcessInfo.processInfo.environment
        for name in ["WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID", "HERALD_CONFIG"] {
            environment[name] = nil
        }
        environment["NOTIFY_SOCKET"] = notify.address
        let logPath = workdir + "/" + log
        daemonLogs.append(logPath)
        let logFD = try openForWriting(logPath)
        defer { close(logFD) }
        let process = try ChildProcess.spawn(
            herald,
            ["serve", "--config", configPath],
            environment: environment,
            stdout: logFD,
            stderr: logFD
        )
        daemon = process
        let deadline = process.spawnedAt + 30_000_000_000
        guard let ready = notify.wait(for: "READY=1", deadline: deadline, abandon: { !process.isRunning }) else {
            let state = process.poll().map(\.description) ?? "still running after 30 s"
            throw BenchmarkError("herald serve did not send READY=1 (\(state))" + logTail(logPath))
        }
        return (process, millis(ready - process.spawnedAt))
    }

    func requireDaemonRunning() throws {
        guard let daemon else { throw BenchmarkError("the daemon is not running") }
        if let ended = daemon.poll() {
            throw BenchmarkError("the daemon ended unexpectedly (\(ended))" + logTail(daemonLogs.last ?? ""))
        }
    }

    // MARK: - W1 burst

    private func burst() throws {
        guard let workdir, let daemon else { throw BenchmarkError("no daemon") }
        let count = options.events
        let inputPath = workdir + "/w1.jsonl"
        var text = ""
        text.reserveCapacity(count * 200)
        for number in 1...count {
            text += BenchmarkConfiguration.eventLine(id: "w1-\(number)", number: number)
            text += "\n"
        }
        try write(text, to: inputPath)
        say("W1: \(count) events written to \(inputPath); enqueueing")

        let outputFD = try openForWriting(workdir + "/enqueue-w1.out")
        let errorFD = try openForWriting(workdir + "/enqueue-w1.err")
        let before = ProcessSample.take(daemon.pid)
        let start = monotonicNanos()
        let enqueue: ChildProcess
        do {
            defer {
                close(outputFD)
                close(errorFD)
            }
            enqueue = try ChildProcess.spawn(
                herald,
                ["enqueue", "--config", configPath, inputPath],
                stdout: outputFD,
                stderr: errorFD
            )
        }
        let deadline = start + 120_000_000_000
        var enqueueEnd: UInt64?
        var sampledPeak = 0
        var nextSample: UInt64 = 0
        while true {
            let now = monotonicNanos()
            if enqueueEnd == nil, let ended = enqueue.poll() {
                enqueueEnd = now
                guard ended == .exited(0) else {
                    let reason = readText(workdir + "/enqueue-w1.err") ?? ""
                    throw BenchmarkError("herald enqueue failed (\(ended)): \(reason.trimmed)")
                }
            }
            if now >= nextSample {
                sampledPeak = max(sampledPeak, procStatusKB(daemon.pid, "VmRSS") ?? 0)
                nextSample = now + 100_000_000
            }
            if recorder.arrivals("w1").count >= count { break }
            try requireDaemonRunning()
            if now >= deadline {
                enqueue.send(SIGKILL)
                throw BenchmarkError(
                    "W1: the sink saw \(recorder.arrivals("w1").count) of \(count) deliveries within 120 s"
                        + (enqueueEnd == nil ? " (herald enqueue still running)" : "")
                )
            }
            sleep(milliseconds: enqueueEnd == nil ? 1 : 5)
        }
        results.w1Usage = ProcessUsage(from: before, to: ProcessSample.take(daemon.pid))
        if enqueueEnd == nil {
            guard let ended = enqueue.wait(seconds: 30) else {
                _ = enqueue.stop(graceSeconds: 1)
                throw BenchmarkError("herald enqueue did not exit after every delivery arrived")
            }
            enqueueEnd = monotonicNanos()
            guard ended == .exited(0) else { throw BenchmarkError("herald enqueue failed (\(ended))") }
        }
        let arrivals = recorder.arrivals("w1")
        results.sampledPeakRSSKB = max(sampledPeak, procStatusKB(daemon.pid, "VmRSS") ?? 0)
        results.peakRSSKB = procStatusKB(daemon.pid, "VmHWM")
        results.rssAfterW1KB = procStatusKB(daemon.pid, "VmRSS")
        results.enqueueMs = enqueueEnd.map { millis($0 - start) }
        results.firstDeliveryMs = millis(arrivals.first - start)
        results.lastDeliveryMs = millis(arrivals.last - start)
        results.endToEndPerSecond = Double(count) / max(1e-9, Double(arrivals.last - start) / 1e9)
        if count > 1 && arrivals.last > arrivals.first {
            results.sinkWindowPerSecond = Double(count - 1) / (Double(arrivals.last - arrivals.first) / 1e9)
        }
        say(
            "W1: enqueue command \(fixed(results.enqueueMs ?? 0)) ms; first delivery at "
                + "\(fixed(results.firstDeliveryMs ?? 0)) ms, \(count)th at \(fixed(results.lastDeliveryMs ?? 0)) ms"
        )
        expectedDelivered += count
        let status = try waitForDelivered(expectedDelivered, timeoutSeconds: 15)
        results.w1Delivered = status.delivered
        say("W1: herald status: \(status.json)")
        guard status.delivered == expectedDelivered else {
            throw BenchmarkError(
                "W1: herald status reports \(status.delivered) delivered, expected \(expectedDelivered)"
            )
        }
    }

    /// Polls `herald status --format json` until `delivered` reaches `expected` or the timeout passes.
    func waitForDelivered(_ expected: Int, timeoutSeconds: Double) throws -> (delivered: Int, json: String) {
        guard let workdir else { throw BenchmarkError("no workdir") }
        let deadline = monotonicNanos() + UInt64(timeoutSeconds * 1e9)
        while true {
            let (ended, output) = try runToCompletion(
                herald,
                ["status", "--config", configPath, "--format", "json"],
                outputPath: workdir + "/status.out",
                errorPath: workdir + "/status.err",
                seconds: 30
            )
            guard ended == .exited(0) else {
                let reason = readText(workdir + "/status.err") ?? ""
                throw BenchmarkError("herald status failed (\(ended)): \(reason.trimmed)")
            }
            let json = output.trimmed
            let delivered = Self.deliveredCount(json)
            if delivered == expected || monotonicNanos() >= deadline {
                return (delivered ?? -1, json)
            }
            sleep(milliseconds: 100)
        }
    }

    private static func deliveredCount(_ json: String) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let deliveries = object["deliveries"] as? [String: Any],
            let value = deliveries["delivered"]
        else { return nil }
        switch value {
        case let number as Int: return number
        case let number as Double: return Int(number)
        case let number as NSNumber: return number.intValue
        default: return nil
        }
    }

    // MARK: - Latency run

    private func latencyRun() throws {
        guard let workdir else { throw BenchmarkError("no workdir") }
        let count = max(1, Int((options.latencyRate * options.latencySeconds).rounded()))
        let interval = 1e9 / options.latencyRate
        say("latency: \(count) events at \(fixed(options.latencyRate, 0))/s through herald enqueue --stream")
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw BenchmarkError("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let outputFD = try openForWriting(workdir + "/enqueue-latency.out")
        let errorFD = try openForWriting(workdir + "/enqueue-latency.err")
        let enqueue: ChildProcess
        do {
            defer {
                close(fds[0])
                close(outputFD)
                close(errorFD)
            }
            enqueue = try ChildProcess.spawn(
                herald,
                ["enqueue", "--config", configPath, "--stream", "-"],
                stdin: fds[0],
                stdout: outputFD,
                stderr: errorFD
            )
        }
        var writer: Int32? = fds[1]
        defer { if let writer { close(writer) } }
        // Let the CLI open the store before the first event, so start-up is not counted as latency.
        sleep(milliseconds: 500)
        var writtenAt = [UInt64](repeating: 0, count: count)
        let before = daemon.flatMap { ProcessSample.take($0.pid) }
        let start = monotonicNanos()
        for index in 0..<count {
            let line = Array((BenchmarkConfiguration.eventLine(id: "lat-\(index + 1)", number: index + 1) + "\n").utf8)
            sleep(untilNanos: start + UInt64(Double(index) * interval))
            writtenAt[index] = monotonicNanos()
            guard let fd = writer, writeAll(fd, line) else {
                let reason = readText(workdir + "/enqueue-latency.err") ?? ""
                throw BenchmarkError("latency: herald enqueue --stream stopped reading (\(reason.trimmed))")
            }
            if index % 64 == 0 { try requireDaemonRunning() }
        }
        if let open = writer {
            close(open)
            writer = nil
        }
        guard let ended = enqueue.wait(seconds: 30) else {
            _ = enqueue.stop(graceSeconds: 1)
            throw BenchmarkError("latency: herald enqueue --stream did not exit 30 s after stdin closed")
        }
        guard ended == .exited(0) else {
            let reason = readText(workdir + "/enqueue-latency.err") ?? ""
            throw BenchmarkError("latency: herald enqueue --stream failed (\(ended)): \(reason.trimmed)")
        }
        let deadline = monotonicNanos() + 30_000_000_000
        while recorder.latencyCount < count {
            try requireDaemonRunning()
            if monotonicNanos() >= deadline {
                throw BenchmarkError("latency: the sink saw \(recorder.latencyCount) of \(count) events within 30 s")
            }
            sleep(milliseconds: 5)
        }
        results.latencyUsage = ProcessUsage(from: before, to: daemon.flatMap { ProcessSample.take($0.pid) })
        let arrivals = recorder.latencyArrivals
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        for index in 0..<count {
            guard let arrived = arrivals["lat-\(index + 1)"] else {
                throw BenchmarkError("latency: lat-\(index + 1) never reached the sink")
            }
            latencies.append(arrived >= writtenAt[index] ? millis(arrived - writtenAt[index]) : 0)
        }
        latencies.sort()
        results.latencyCount = count
        results.latency = (
            percentile(latencies, 0.50), percentile(latencies, 0.90), percentile(latencies, 0.99),
            latencies.last ?? 0, latencies.reduce(0, +) / Double(latencies.count)
        )
        results.rssAfterRunKB = daemon.flatMap { procStatusKB($0.pid, "VmRSS") }
        if let latency = results.latency {
            say(
                "latency: p50 \(fixed(latency.p50, 2)) ms, p90 \(fixed(latency.p90, 2)) ms, "
                    + "p99 \(fixed(latency.p99, 2)) ms, max \(fixed(latency.max, 2)) ms"
            )
        }
        expectedDelivered += count
        let status = try waitForDelivered(expectedDelivered, timeoutSeconds: 15)
        say("latency: herald status: \(status.json)")
        guard status.delivered == expectedDelivered else {
            throw BenchmarkError(
                "latency: herald status reports \(status.delivered) delivered, expected \(expectedDelivered)"
            )
        }
    }

    // MARK: - Shutdown

    private func stopDaemon() throws {
        guard let daemon else { throw BenchmarkError("no daemon") }
        results.overallPeakRSSKB = procStatusKB(daemon.pid, "VmHWM")
        let start = monotonicNanos()
        let ended = daemon.stop(graceSeconds: 30)
        results.shutdownMs = millis(monotonicNanos() - start)
        self.daemon = nil
        guard case .exited(let code) = ended else {
            throw BenchmarkError(
                "the daemon did not exit on SIGTERM (\(ended.map(\.description) ?? "killed after 30 s"))"
                    + logTail(daemonLogs.last ?? "")
            )
        }
        results.exitCode = code
        say("shutdown: SIGTERM -> exit code \(code) after \(fixed(results.shutdownMs ?? 0)) ms")
        guard code == 0 else {
            throw BenchmarkError("the daemon exited \(code) on SIGTERM" + logTail(daemonLogs.last ?? ""))
        }
    }

    // MARK: - Summary

    private func printSummary() {
        var lines = ["", "==== herald-benchmark summary ===="]
        lines.append(contentsOf: summaryLines().map(\.text))
        lines.append("==================================")
        for line in lines { say(line) }
    }

    // MARK: - Helpers

    func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw BenchmarkError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    func logTail(_ path: String) -> String {
        guard let text = readText(path), !text.isEmpty else { return "" }
        let tail = text.split(separator: "\n").suffix(10).joined(separator: "\n  ")
        return "\n  last lines of \(path):\n  " + tail
    }

    private func megabytes(_ kb: Int?) -> String {
        kb.map { fixed(Double($0) / 1024) } ?? "?"
    }

    private func cores() -> Int {
        ProcessInfo.processInfo.activeProcessorCount
    }
}

/// The nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

/// A free TCP port on 127.0.0.1 (bound to port 0, read back, released).
/// Ports handed out by `freeLocalPort` in this process.
private let handedOutPorts = Mutex<Set<Int>>([])

/// A loopback port for a daemon to listen on: below the kernel's ephemeral range (which starts at 32768 by
/// default), so that no outgoing connection (to the sink, to PostgreSQL) takes it between this check and the
/// daemon's bind, and never the same one twice in a run (a W7 instance once failed with EADDRINUSE).
func freeLocalPort() -> Int {
    for _ in 0..<500 {
        let port = Int.random(in: 20_000..<32_000)
        let fresh = handedOutPorts.withLock { $0.insert(port).inserted }
        if fresh, bindLocal(port: port) != nil { return port }
    }
    return bindLocal(port: 0) ?? 0
}

/// Binds 127.0.0.1:`port` (0: any) and closes again; the port bound, or nil.
private func bindLocal(port: Int) -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
}

extension String {
    /// Without leading and trailing white space.
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
