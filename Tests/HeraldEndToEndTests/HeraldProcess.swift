import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kill(2)`, under a name that methods called `kill` do not shadow.
@discardableResult
func sendSignal(_ pid: pid_t, _ signal: Int32) -> Int32 {
    kill(pid, signal)
}

/// A harness failure with a readable reason (binary missing, timeout, unexpected exit…).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Finds the `herald` executable built next to the test bundle.
enum HeraldBinary {
    static func locate() throws -> URL {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["HERALD_BINARY"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        }
        let bundle = Bundle.main.bundleURL.resolvingSymlinksInPath()
        candidates.append(bundle.appendingPathComponent("herald"))
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("herald"))
        if let first = CommandLine.arguments.first {
            let executable = URL(fileURLWithPath: first).resolvingSymlinksInPath()
            let directory = executable.deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("herald"))
            candidates.append(directory.deletingLastPathComponent().appendingPathComponent("herald"))
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        let looked = candidates.map(\.path).joined(separator: ", ")
        throw HarnessError(
            "the herald executable was not found next to the test bundle (looked at \(looked)); "
                + "run `swift build --build-tests` first or set HERALD_BINARY"
        )
    }
}

/// What a finished CLI command left behind.
struct CommandResult: CustomStringConvertible {
    var exitCode: Int32
    var stdout: String
    var stderr: String

    /// Non-empty lines of standard output.
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    var description: String { "exit \(exitCode), stdout: \(stdout.prefix(2000)), stderr: \(stderr.prefix(2000))" }
}

/// `herald status --format json`.
struct StatusReport: Decodable, CustomStringConvertible {
    /// One registered instance (PostgreSQL only).
    struct Instance: Decodable {
        var id: String
        var host: String
        var pid: Int32
        var startedAt: String
        var lastSeen: String
        var secondsSinceSeen: Double
    }

    var events: [String: Int]
    var deliveries: [String: Int]
    var instances: [Instance]?

    var totalEvents: Int { events.values.reduce(0, +) }
    var totalDeliveries: Int { deliveries.values.reduce(0, +) }
    func deliveries(_ state: String) -> Int { deliveries[state] ?? 0 }
    /// Deliveries that are neither delivered nor dead.
    var unsettled: Int { totalDeliveries - deliveries("delivered") - deliveries("dead") }

    var description: String {
        let events = self.events.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let deliveries = self.deliveries.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " ")
        return "events[\(events)] deliveries[\(deliveries)]"
    }
}

/// The configuration written for one test (SPEC §14 shape).
struct HeraldConfig {
    static let slackToken = "xoxb-test-SECRET-TOKEN-123"
    static let signingSecret = "whsec-test-SIGNING-SECRET-456"

    /// `notifiers[0].slack.apiURL` (`chat.postMessage` goes to `{apiURL}/chat.postMessage`).
    var slackAPIURL = "http://127.0.0.1:9/api"
    /// `notifiers[0].slack.tokenFile`, relative to the work directory.
    var slackTokenFile = "secrets/slack-token"
    /// `worker` settings, in order (name, YAML value).
    var worker: [(String, String)] = [("concurrency", "64"), ("leaseSeconds", "5")]
    var logLevel = "debug"
    /// `rateLimit` of both notifiers.
    var rateLimit = "{ perSecond: 0 }"
    /// `retry` of the Slack notifier, if any.
    var slackRetry: String?
    /// `retry` of the webhook notifier, if any.
    var webhookRetry: String?
    /// `server.listen` of the HTTP API (`127.0.0.1:0` picks a free port), if the API should run.
    var apiListen: String?
    /// The plaintext of the API token configured with `apiListen` (only its SHA-256 is written).
    static let apiToken = "e2e-api-token-7f3a"
    /// `secrets.whenMissing`, if set (`notConfigured` leaves a notifier with an absent secret out).
    var secretsWhenMissing: String?
    /// The `store` section's lines (SQLite in the work directory unless a test points it at PostgreSQL).
    var store = ["  sqlite:", "    path: \"var/herald.db\""]

    /// Replaces or appends one `worker` setting.
    func with(worker name: String, _ value: String) -> HeraldConfig {
        var copy = self
        if let index = copy.worker.firstIndex(where: { $0.0 == name }) {
            copy.worker[index].1 = value
        } else {
            copy.worker.append((name, value))
        }
        return copy
    }

    var yaml: String {
        var lines: [String] = []
        if let apiListen {
            lines += [
                "server:",
                "  listen: \"\(apiListen)\"",
                "auth:",
                "  tokens:",
                "    - name: e2e",
                "      sha256: \"55cdad286db1bc0c9be20d9c32c17219d86c3ed03258cf651dc66e0aae60220b\"",
                "      scopes: [\"admin\"]",
            ]
        }
        if let secretsWhenMissing { lines += ["secrets:", "  whenMissing: \(secretsWhenMissing)"] }
        lines += [
            "store:"
        ]
        lines += store
        lines += [
            "worker:"
        ]
        lines += worker.map { "  \($0.0): \($0.1)" }
        lines += [
            "log:",
            "  level: \(logLevel)",
            "  format: logfmt",
            "defaults:",
            "  slack: 2",
            "  webhook: 6",
            "notifiers:",
            "  - id: 2",
            "    name: slack-bot",
            "    channel: slack",
            "    slack:",
            "      apiURL: \"\(slackAPIURL)\"",
            "      tokenFile: \"\(slackTokenFile)\"",
            "    rateLimit: \(rateLimit)",
        ]
        if let slackRetry { lines.append("    retry: \(slackRetry)") }
        lines += [
            "  - id: 6",
            "    name: webhook",
            "    channel: webhook",
            "    webhook:",
            "      signingSecretFile: \"secrets/webhook-secret\"",
            "    rateLimit: \(rateLimit)",
        ]
        if let webhookRetry { lines.append("    retry: \(webhookRetry)") }
        lines += [
            "catalog:",
            "  - key: test_notice",
            "    type: test",
            "    description: \"A test notice\"",
            "    defaults: { slack: true, webhook: true }",
            "    critical: false",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A temporary work directory with a configuration, secrets and the store, plus the processes started in it.
/// `close()` (or deinit) kills every daemon still running and removes the directory.
final class HeraldEnvironment {
    let directory: URL
    let configURL: URL
    let binary: URL
    private var sequence = 0
    private var daemons: [DaemonProcess] = []

    init(config: HeraldConfig = HeraldConfig()) throws {
        binary = try HeraldBinary.locate()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herald-e2e-\(getpid())-\(UUID().uuidString.prefix(8))")
        let secrets = directory.appendingPathComponent("secrets")
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("var"),
            withIntermediateDirectories: true
        )
        try Data((HeraldConfig.slackToken + "\n").utf8).write(to: secrets.appendingPathComponent("slack-token"))
        try Data((HeraldConfig.signingSecret + "\n").utf8)
            .write(to: secrets.appendingPathComponent("webhook-secret"))
        configURL = directory.appendingPathComponent("herald.yaml")
        try write(config)
    }

    deinit { close() }

    /// Rewrites the configuration file.
    func write(_ config: HeraldConfig) throws {
        try Data(config.yaml.utf8).write(to: configURL)
    }

    /// Kills every daemon still running and removes the work directory (kept with HERALD_E2E_KEEP=1).
    func close() {
        for daemon in daemons { daemon.kill() }
        daemons.removeAll()
        if ProcessInfo.processInfo.environment["HERALD_E2E_KEEP"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private func nextName(_ stem: String) -> String {
        sequence += 1
        return "\(stem)-\(sequence)"
    }

    /// Writes `contents` to a new file in the work directory and returns its path.
    func file(_ contents: Data, name: String = "input") throws -> String {
        let url = directory.appendingPathComponent(nextName(name) + ".json")
        try contents.write(to: url)
        return url.path
    }

    /// Runs `herald ARGUMENTS --config FILE` to completion (bounded by `timeout`).
    func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        let name = nextName("cli")
        let stdoutURL = directory.appendingPathComponent(name + ".out")
        let stderrURL = directory.appendingPathComponent(name + ".err")
        let process = try ProcessLauncher.launch(
            binary,
            arguments: arguments + ["--config", configURL.path],
            stdout: stdoutURL,
            stderr: stderrURL,
            directory: directory
        )
        guard await ProcessLauncher.waitForExit(process, timeout: timeout) else {
            _ = sendSignal(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw HarnessError("herald \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        let status =
            process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CommandResult(
            exitCode: status,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        )
    }

    /// `herald enqueue FILE` with `contents` written to a file.
    func enqueue(_ contents: Data, stream: Bool = false) async throws -> CommandResult {
        let path = try file(contents)
        return try await run(["enqueue", path] + (stream ? ["--stream"] : []))
    }

    /// Enqueues and requires success; returns the ids printed as `accepted ID`, in order.
    func enqueueAccepted(_ contents: Data) async throws -> [String] {
        let result = try await enqueue(contents)
        guard result.exitCode == 0 else { throw HarnessError("herald enqueue failed: \(result)") }
        return result.stdoutLines.compactMap { line in
            line.hasPrefix("accepted ") ? String(line.dropFirst("accepted ".count)) : nil
        }
    }

    /// `herald status --format json`.
    func status() async throws -> StatusReport {
        let result = try await run(["status", "--format", "json"])
        guard result.exitCode == 0 else { throw HarnessError("herald status failed: \(result)") }
        do {
            return try JSONDecoder().decode(StatusReport.self, from: Data(result.stdout.utf8))
        } catch {
            throw HarnessError("herald status printed something that is not its JSON report: \(result.stdout)")
        }
    }

    /// Polls `herald status` (about every 50 ms) until `condition` holds; returns the last report.
    @discardableResult
    func waitForStatus(
        _ what: String,
        timeout: Duration,
        daemon: DaemonProcess? = nil,
        _ condition: (StatusReport) -> Bool
    ) async throws -> StatusReport {
        var last: StatusReport?
        let deadline = ContinuousClock.now + timeout
        while true {
            let report = try await status()
            last = report
            if condition(report) { return report }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let tail = daemon.map { "\nlog tail:\n" + $0.logTail(lines: 40) } ?? ""
        throw HarnessError(
            "timed out after \(timeout) waiting for \(what); last status: \(last.map { "\($0)" } ?? "none")\(tail)"
        )
    }

    /// Starts `herald serve` and waits until it logs `msg="herald ready"`.
    func startDaemon(readyWithin timeout: Duration = .seconds(20)) async throws -> DaemonProcess {
        let daemon = try launchDaemon()
        try await daemon.waitUntilReady(timeout: timeout)
        return daemon
    }

    /// Starts `herald serve` without waiting for readiness.
    func launchDaemon() throws -> DaemonProcess {
        let name = nextName("serve")
        let daemon = try DaemonProcess(
            binary: binary,
            configPath: configURL.path,
            stdout: directory.appendingPathComponent(name + ".out"),
            stderr: directory.appendingPathComponent(name + ".err"),
            directory: directory
        )
        daemons.append(daemon)
        return daemon
    }

    /// Everything every daemon of this environment wrote to stdout and stderr.
    func allDaemonOutput() -> String {
        daemons.map(\.output).joined(separator: "\n")
    }
}

/// One `herald serve` process with its output captured to files.
final class DaemonProcess {
    let process: Process
    let stdoutURL: URL
    let stderrURL: URL
    var pid: Int32 { process.processIdentifier }

    convenience init(binary: URL, configPath: String, stdout: URL, stderr: URL, directory: URL) throws {
        try self.init(
            binary: binary,
            arguments: ["serve", "--config", configPath],
            stdout: stdout,
            stderr: stderr,
            directory: directory
        )
    }

    /// Starts `binary ARGUMENTS` (another long-running command, such as `herald outbox`).
    init(binary: URL, arguments: [String], stdout: URL, stderr: URL, directory: URL) throws {
        stdoutURL = stdout
        stderrURL = stderr
        process = try ProcessLauncher.launch(
            binary,
            arguments: arguments,
            stdout: stdout,
            stderr: stderr,
            directory: directory
        )
    }

    deinit { kill() }

    var stdoutText: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderrText: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    /// Standard output followed by standard error.
    var output: String { stdoutText + "\n" + stderrText }

    func logTail(lines: Int) -> String {
        (stdoutText.split(separator: "\n").suffix(lines) + stderrText.split(separator: "\n").suffix(10))
            .joined(separator: "\n")
    }

    var isRunning: Bool { process.isRunning }

    /// The API's port, from the `api listening` log line (nil until it is bound).
    var apiPort: Int? {
        guard let line = stdoutText.split(separator: "\n").first(where: { $0.contains("msg=\"api listening\"") }),
            let range = line.range(of: "address=")
        else { return nil }
        let address = line[range.upperBound...].prefix { $0 != " " }.replacingOccurrences(of: "\"", with: "")
        return address.split(separator: ":").last.flatMap { Int($0) }
    }

    /// Polls the log (every 20 ms) for `msg="herald ready"`.
    func waitUntilReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if stdoutText.contains("msg=\"herald ready\"") { return }
            if !process.isRunning {
                throw HarnessError(
                    "herald serve exited with \(process.terminationStatus) before it was ready:\n\(output)"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError("herald serve was not ready within \(timeout):\n\(logTail(lines: 40))")
    }

    func signal(_ number: Int32) {
        if process.isRunning { _ = sendSignal(pid, number) }
    }

    /// Waits for the process to end; returns its exit status, or nil when it still runs after `timeout`.
    /// A death by signal is reported as 128 + the signal number.
    func waitForExit(timeout: Duration) async -> Int32? {
        guard await ProcessLauncher.waitForExit(process, timeout: timeout) else { return nil }
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// SIGKILL, then reap (idempotent).
    func kill() {
        if process.isRunning {
            _ = sendSignal(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Spawns processes with their output in files (no pipes to drain, nothing to deadlock on).
enum ProcessLauncher {
    static func launch(
        _ binary: URL,
        arguments: [String],
        stdout: URL,
        stderr: URL,
        directory: URL
    ) throws -> Process {
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let out = try FileHandle(forWritingTo: stdout)
        let err = try FileHandle(forWritingTo: stderr)
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "JOURNAL_STREAM", "HERALD_CONFIG", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            environment[name] = nil
        }
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return process
    }

    /// Polls (every 5 ms) until the process ends; false when it still runs after `timeout`.
    static func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        // `isRunning` turns false when the exit was observed; the status is final from here on.
        process.waitUntilExit()
        return true
    }
}

/// Polls `condition` (every 20 ms by default) until it holds or `timeout` passes.
func eventually(
    _ what: @autoclosure () -> String,
    timeout: Duration,
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline {
            throw HarnessError("timed out after \(timeout) waiting for \(what())")
        }
        try await Task.sleep(for: interval)
    }
}

/// Builds event JSON (one object per line).
enum EventJSON {
    static func object(
        id: String? = nil,
        key: String = "test_notice",
        organization: String? = "acme",
        text: String = "hello",
        recipients: [(channel: String, address: String)]
    ) -> [String: Any] {
        var object: [String: Any] = [
            "key": key,
            "data": ["title": "Test notice", "text": text, "url": "https://tracker.example/n/1"],
            "recipients": recipients.map { ["channel": $0.channel, "address": $0.address] },
        ]
        if let id { object["id"] = id }
        if let organization { object["organization"] = organization }
        return object
    }

    static func line(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// JSON lines: one event per line.
    static func lines(_ objects: [[String: Any]]) -> Data {
        Data((objects.map(line).joined(separator: "\n") + "\n").utf8)
    }
}

extension HeraldEnvironment {
    /// Replaces the configuration file with `yaml` (for configurations `HeraldConfig` does not describe).
    func writeConfig(yaml: String) throws {
        try Data(yaml.utf8).write(to: configURL)
    }

    /// Writes `contents` (plus a newline) to `secrets/NAME` and returns the path relative to the work directory.
    @discardableResult
    func writeSecret(_ name: String, _ contents: String) throws -> String {
        let relative = "secrets/\(name)"
        try Data((contents + "\n").utf8).write(to: directory.appendingPathComponent(relative))
        return relative
    }

    /// `herald import FILE` with `contents` written to a file; requires success.
    @discardableResult
    func importDirectory(_ contents: Data) async throws -> CommandResult {
        let path = try file(contents, name: "directory")
        let result = try await run(["import", path])
        guard result.exitCode == 0 else { throw HarnessError("herald import failed: \(result)") }
        return result
    }
}
