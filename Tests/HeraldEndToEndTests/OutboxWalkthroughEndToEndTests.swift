import Foundation
import HeraldTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The README's "Trying it locally" walk-through, run with the real processes: `herald outbox` and `herald serve`
/// on the example configuration (its endpoints moved to the outbox's free ports), the example events, a forced
/// retry, a dead letter and its replay through `herald deliveries retry`.
@Suite(.serialized) struct OutboxWalkthroughEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theWalkthroughDeliversRetriesAndReplaysADeadLetter() async throws {
        let local = try LocalTrial()
        defer { local.close() }
        let outbox = try await local.startOutbox()
        try await local.prepareExampleConfiguration(httpPort: outbox.httpPort, smtpPort: outbox.smtpPort)
        let daemon = try local.launchDaemon()
        try await daemon.waitUntilReady(timeout: .seconds(30))

        let events = try String(
            contentsOf: Self.root.appendingPathComponent("config/examples/walkthrough.jsonl"),
            encoding: .utf8
        )
        let eventsPath = local.directory.appendingPathComponent("walkthrough.jsonl")
        try Data(local.moved(events, httpPort: outbox.httpPort).utf8).write(to: eventsPath)
        let enqueued = try await local.herald(["enqueue", eventsPath.path])
        #expect(enqueued.exitCode == 0, "\(enqueued)")
        #expect(enqueued.stdoutLines == ["accepted walk-1", "accepted walk-2"])

        // walk-1 reaches every channel; walk-2's webhook is refused once and then delivered, its email dies.
        try await eventually(
            "the outbox to record walk-1 on five channels and walk-2's two outcomes",
            timeout: .seconds(60)
        ) {
            let entries = try local.entries(outbox)
            let first = entries.filter { $0.eventId == "walk-1" && $0.outcome == "delivered" }
            let retried = entries.filter { $0.destination == "retry-once" }.map(\.outcome)
            let dead = entries.filter { $0.destination == "dead-once@example.com" }.map(\.outcome)
            return Set(first.map(\.channel)) == ["email", "slack", "msteams", "sms", "webhook"]
                && retried == ["retry-once", "delivered"] && dead == ["dead-once"]
        }
        let entries = try local.entries(outbox)
        let firstTitles = entries.filter { $0.eventId == "walk-1" }.map(\.title)
        #expect(firstTitles.allSatisfy { $0.contains("Payout sent") || $0.contains("42.00 EUR") }, "\(firstTitles)")
        #expect(!firstTitles.contains { $0.contains("  ") }, "every template field is filled: \(firstTitles)")
        #expect(entries.filter { $0.eventId == "walk-1" }.count == 5, "walk-1 delivered once per channel")
        let printed = outbox.process.output
        #expect(printed.contains("email") && printed.contains("ann@example.com") && printed.contains("Payout sent"))
        #expect(printed.contains("retry-once: answered 503"), "\(printed)")
        #expect(printed.contains("dead-once: answered 554"), "\(printed)")

        let explained = try await local.herald(["explain", "walk-1", "--format", "json"])
        let explanation = try JSONDecoder().decode(Explanation.self, from: Data(explained.stdout.utf8))
        #expect(explanation.deliveries.map(\.state) == Array(repeating: "delivered", count: 5))
        #expect(Set(explanation.deliveries.map(\.channel)) == ["email", "slack", "msteams", "sms", "webhook"])

        try await eventually("the dead letter to be recorded", timeout: .seconds(30)) {
            try await local.deadLetters().count == 1
        }
        let dead = try await local.deadLetters()
        #expect(dead.first?.recipient.contains("dead-once") == true, "\(dead)")
        #expect(dead.first?.lastError?.contains("554") == true, "\(dead)")
        let retried = try await local.herald(["deliveries", "retry", String(dead[0].id)])
        #expect(retried.stdoutLines == ["requeued 1 dead letter"], "\(retried)")

        try await eventually("the replayed dead letter to be delivered", timeout: .seconds(30)) {
            try local.entries(outbox).filter { $0.destination == "dead-once@example.com" }.map(\.outcome)
                == ["dead-once", "delivered"]
        }
        try await eventually("no dead letter left", timeout: .seconds(30)) { try await local.deadLetters().isEmpty }

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(30)) == 0)
        outbox.process.signal(SIGTERM)
        #expect(await outbox.process.waitForExit(timeout: .seconds(10)) == 0)
        #expect(outbox.process.stdoutText.contains("outbox stopped after 9 requests"), "\(outbox.process.stdoutText)")
    }

    struct Explanation: Decodable {
        struct Delivery: Decodable {
            var channel: String
            var state: String
        }
        var deliveries: [Delivery]
    }

    struct DeliveryLine: Decodable {
        var id: Int64
        var recipient: String
        var lastError: String?
    }
}

/// A running `herald outbox` and the ports it bound.
struct OutboxProcess {
    var process: DaemonProcess
    var httpPort: Int
    var smtpPort: Int
    var recordPath: URL
}

/// A work directory laid out like the repository (`config/`, `var/`), for the example configuration.
final class LocalTrial {
    let directory: URL
    let binary: URL
    private var processes: [DaemonProcess] = []
    private var sequence = 0

    var configPath: String { directory.appendingPathComponent("config/herald.yaml").path }

    init() throws {
        binary = try HeraldBinary.locate()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herald-trial-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("config"),
            withIntermediateDirectories: true
        )
    }

    func close() {
        for process in processes { process.kill() }
        processes.removeAll()
        if ProcessInfo.processInfo.environment["HERALD_E2E_KEEP"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private func nextName(_ stem: String) -> String {
        sequence += 1
        return "\(stem)-\(sequence)"
    }

    /// Starts `herald outbox` on free ports and waits for its "listening" line.
    func startOutbox() async throws -> OutboxProcess {
        let name = nextName("outbox")
        let record = directory.appendingPathComponent("var/outbox.jsonl")
        let process = try DaemonProcess(
            binary: binary,
            arguments: [
                "outbox", "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0", "--record", record.path,
            ],
            stdout: directory.appendingPathComponent(name + ".out"),
            stderr: directory.appendingPathComponent(name + ".err"),
            directory: directory
        )
        processes.append(process)
        var ports: (Int, Int)?
        try await eventually("herald outbox to listen", timeout: .seconds(20)) {
            if !process.isRunning { throw HarnessError("herald outbox exited: \(process.output)") }
            ports = Self.ports(in: process.stdoutText)
            return ports != nil
        }
        return OutboxProcess(process: process, httpPort: ports!.0, smtpPort: ports!.1, recordPath: record)
    }

    /// `outbox listening http=127.0.0.1:P smtp=127.0.0.1:Q …`.
    static func ports(in text: String) -> (Int, Int)? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("outbox listening") }) else {
            return nil
        }
        var http: Int?
        var smtp: Int?
        for field in line.split(separator: " ") {
            let port = field.split(separator: ":").last.flatMap { Int($0) }
            if field.hasPrefix("http=") { http = port }
            if field.hasPrefix("smtp=") { smtp = port }
        }
        guard let http, let smtp else { return nil }
        return (http, smtp)
    }

    /// The example configuration's text with the outbox's default ports replaced by the bound ones.
    func moved(_ text: String, httpPort: Int, smtpPort: Int? = nil) -> String {
        var text = text.replacingOccurrences(of: "127.0.0.1:8426", with: "127.0.0.1:\(httpPort)")
        if let smtpPort { text = text.replacingOccurrences(of: "127.0.0.1:2526", with: "127.0.0.1:\(smtpPort)") }
        return text
    }

    /// Copies `config/herald.yaml` and its templates, pointed at the outbox's ports, and makes the development
    /// secrets with `scripts/dev-secrets.sh`, as `make run` does.
    func prepareExampleConfiguration(httpPort: Int, smtpPort: Int) async throws {
        let root = OutboxWalkthroughEndToEndTests.root
        let example = try String(contentsOf: root.appendingPathComponent("config/herald.yaml"), encoding: .utf8)
        try Data(moved(example, httpPort: httpPort, smtpPort: smtpPort).utf8)
            .write(to: URL(fileURLWithPath: configPath))
        try FileManager.default.copyItem(
            at: root.appendingPathComponent("config/templates"),
            to: directory.appendingPathComponent("config/templates")
        )
        let script = try await run(
            URL(fileURLWithPath: "/bin/bash"),
            [root.appendingPathComponent("scripts/dev-secrets.sh").path, "var/secrets"]
        )
        guard script.exitCode == 0 else { throw HarnessError("dev-secrets.sh failed: \(script)") }
    }

    func launchDaemon() throws -> DaemonProcess {
        let name = nextName("serve")
        let daemon = try DaemonProcess(
            binary: binary,
            configPath: configPath,
            stdout: directory.appendingPathComponent(name + ".out"),
            stderr: directory.appendingPathComponent(name + ".err"),
            directory: directory
        )
        processes.append(daemon)
        return daemon
    }

    /// Runs `herald ARGUMENTS --config config/herald.yaml` to completion.
    func herald(_ arguments: [String]) async throws -> CommandResult {
        try await run(binary, arguments + ["--config", configPath])
    }

    private func run(_ executable: URL, _ arguments: [String]) async throws -> CommandResult {
        let name = nextName("cli")
        let stdout = directory.appendingPathComponent(name + ".out")
        let stderr = directory.appendingPathComponent(name + ".err")
        let process = try ProcessLauncher.launch(
            executable,
            arguments: arguments,
            stdout: stdout,
            stderr: stderr,
            directory: directory
        )
        guard await ProcessLauncher.waitForExit(process, timeout: .seconds(60)) else {
            process.terminate()
            throw HarnessError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) did not finish")
        }
        return CommandResult(
            exitCode: process.terminationStatus,
            stdout: (try? String(contentsOf: stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        )
    }

    /// The outbox's record file, decoded.
    func entries(_ outbox: OutboxProcess) throws -> [OutboxEntry] {
        guard let data = FileManager.default.contents(atPath: outbox.recordPath.path) else { return [] }
        return try data.split(separator: 0x0A).map { try JSONDecoder().decode(OutboxEntry.self, from: Data($0)) }
    }

    /// `herald deliveries list --state dead --format json`.
    func deadLetters() async throws -> [OutboxWalkthroughEndToEndTests.DeliveryLine] {
        let result = try await herald(["deliveries", "list", "--state", "dead", "--format", "json"])
        guard result.exitCode == 0 else { throw HarnessError("deliveries list failed: \(result)") }
        return try result.stdoutLines.map {
            try JSONDecoder().decode(OutboxWalkthroughEndToEndTests.DeliveryLine.self, from: Data($0.utf8))
        }
    }
}
