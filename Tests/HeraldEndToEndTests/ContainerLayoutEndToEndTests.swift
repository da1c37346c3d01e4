import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The runtime stage of the `Dockerfile`, as far as starting Herald goes: the users and directories its `RUN`
/// creates, the files it copies, its environment, user, working directory, health check and command.
struct RuntimeImage {
    /// `groupadd`, `useradd` and `install -d` commands of the stage's `RUN` instructions (package installs are
    /// left out: the test machine has the libraries already).
    var setup: [String] = []
    /// `(source in the repository or "<herald>" for the build stage's binary, destination)`.
    var copies: [(source: String, destination: String)] = []
    var environment: [(String, String)] = []
    var user: String?
    var workdir: String?
    var healthcheck: [String] = []
    var entrypoint: [String] = []
    var command: [String] = []

    /// Reads the last stage of a Dockerfile.
    init(dockerfile text: String) throws {
        var instructions: [String] = []
        var current = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if current.isEmpty && (line.isEmpty || line.hasPrefix("#")) { continue }
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                current += line.dropLast() + " "
            } else {
                instructions.append(current + line)
                current = ""
            }
        }
        guard let stage = instructions.lastIndex(where: { $0.uppercased().hasPrefix("FROM ") }) else {
            throw HarnessError("the Dockerfile has no FROM")
        }
        for instruction in instructions[(stage + 1)...] {
            let parts = instruction.split(separator: " ", maxSplits: 1).map(String.init)
            let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            switch parts[0].uppercased() {
            case "RUN":
                for command in argument.components(separatedBy: "&&") {
                    let command = command.trimmingCharacters(in: .whitespaces)
                    if ["groupadd ", "useradd ", "install -d "].contains(where: command.hasPrefix) {
                        setup.append(command)
                    }
                }
            case "COPY":
                let words = argument.split(separator: " ").map(String.init)
                guard words.count >= 2 else { throw HarnessError("COPY without a destination: \(instruction)") }
                let source = words.first!.hasPrefix("--from=") ? "<herald>" : words[words.count - 2]
                copies.append((source, words[words.count - 1]))
            case "ENV":
                for pair in argument.split(separator: " ") {
                    let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    if kv.count == 2 { environment.append((kv[0], kv[1])) }
                }
            case "USER": user = argument
            case "WORKDIR": workdir = argument
            case "HEALTHCHECK":
                guard let range = argument.range(of: "CMD ") else { throw HarnessError("HEALTHCHECK without CMD") }
                healthcheck = try Self.execForm(String(argument[range.upperBound...]))
            case "ENTRYPOINT": entrypoint = try Self.execForm(argument)
            case "CMD": command = try Self.execForm(argument)
            default: break
            }
        }
    }

    /// `["a", "b"]` → `[a, b]` (the exec form; the shell form is refused so the test runs what Docker runs).
    static func execForm(_ text: String) throws -> [String] {
        guard let data = text.data(using: .utf8), let words = try? JSONDecoder().decode([String].self, from: data)
        else {
            throw HarnessError("expected the exec form [\"…\"], got \(text)")
        }
        return words
    }
}

/// Shell quoting for generated scripts.
func shellQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Starts Herald in the image's layout (SPEC §15 "Docker"): no Docker engine runs here, so the test reads the
/// Dockerfile's runtime stage and reproduces it in private mount and network namespaces: overlays over `/etc`,
/// `/var/lib`, `/usr/local` and `/run` (the host stays untouched), the image's user and directories, the
/// binary at `/usr/local/bin/herald`, `config/herald.container.yaml` at `/etc/herald/herald.yaml`, one secret
/// in the environment and one under `/run/secrets`, the rest absent; then the image's command as its user.
@Suite(.serialized) struct ContainerLayoutEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Why the namespaces cannot be had here, or nil when they can.
    static func unavailableReason() -> String? {
        guard getuid() == 0 else { return "needs root for mount namespaces and the image's user" }
        for tool in ["/usr/bin/unshare", "/usr/bin/setpriv", "/usr/sbin/ip", "/usr/bin/curl"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (util-linux, iproute2, curl)"
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["--mount", "--net", "--propagation", "private", "true"]
        try? probe.run()
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? nil : "unshare --mount --net is not permitted here"
    }

    @Test func theImageStartsAsBuiltWithAbsentSecretsReportedAsNotConfigured() async throws {
        if let reason = Self.unavailableReason() {
            print("skipping the container-layout test: \(reason)")
            return
        }
        let binary = try HeraldBinary.locate()
        let image = try RuntimeImage(
            dockerfile: String(contentsOf: Self.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        )
        #expect(image.user == "10001:10001", "the image runs as the numeric id of its herald user")
        #expect(
            image.copies.contains {
                $0.source == "config/herald.container.yaml" && $0.destination == "/etc/herald/herald.yaml"
            }
        )
        #expect(image.environment.contains { $0 == ("HERALD_CONFIG", "/etc/herald/herald.yaml") })
        #expect(image.healthcheck.last?.hasSuffix("/healthz") == true)

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("herald-container-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let script = work.appendingPathComponent("layout.sh")
        try Data(Self.script(image: image, binary: binary.path).utf8).write(to: script)
        let result = try await Self.run(
            "/usr/bin/unshare",
            ["--mount", "--net", "--propagation", "private", "/bin/bash", script.path],
            in: work
        )
        let report = Dictionary(
            result.stdoutLines.compactMap { line -> (String, String)? in
                guard line.hasPrefix("LAYOUT ") else { return nil }
                let kv = line.dropFirst(7).split(separator: "=", maxSplits: 1).map(String.init)
                return kv.count == 2 ? (kv[0], kv[1]) : nil
            },
            uniquingKeysWith: { $1 }
        )
        #expect(result.exitCode == 0, "\(result)")
        #expect(report["ready"] == "yes", "\(result)")
        #expect(report["process_user"] == "herald", "\(result)")
        #expect(report["database_owner"] == "herald", "\(result)")
        #expect(report["stopped"] == "0", "\(result)")
        #expect(report["healthcheck"] == "0", "the image's HEALTHCHECK command failed: \(result)")
        let readiness = try #require(
            report["readyz"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] },
            "\(result)"
        )
        let data = readiness["data"] as? [String: Any]
        #expect(data?["ready"] as? Bool == true, "\(readiness)")
        #expect(data?["notConfigured"] as? [Int] == [1, 5], "\(readiness)")
        let checked = result.stdout
        #expect(checked.contains("notifier 1 (smtp) not configured: notifiers[0].email.password absent"), "\(checked)")
        #expect(checked.contains("notifier 5 (twilio) not configured: notifiers[4].sms.authToken absent"), "\(checked)")
        #expect(!checked.contains("(slack) not configured") && !checked.contains("(webhook) not configured"))
        #expect(checked.contains("configuration ok: 4 notifiers"), "\(checked)")
        #expect(checked.contains("one-time passcodes off: otp.secret absent"), "\(checked)")
        #expect(checked.contains("one-click unsubscribe and the preference center off: auth.linkSecret absent"))
        let log =
            report["log"].flatMap { try? String(contentsOfFile: work.appendingPathComponent($0).path, encoding: .utf8) }
            ?? ""
        let warnings = log.split(separator: "\n").filter { $0.contains("notifier not configured") }
        #expect(warnings.count == 2, "\(log)")
        #expect(warnings.contains { $0.contains("smtp") } && warnings.contains { $0.contains("twilio") })
        #expect(!log.contains("xoxb-container-env-token") && !log.contains("webhook-secret-from-a-file"))
    }

    /// The script run inside the namespaces; it prints `LAYOUT key=value` lines for the test to read.
    static func script(image: RuntimeImage, binary: String) -> String {
        let workdir = image.workdir ?? "/"
        let ids = (image.user ?? "0:0").split(separator: ":").map(String.init)
        let asUser = "setpriv --reuid=\(ids[0]) --regid=\(ids.count > 1 ? ids[1] : ids[0]) --clear-groups --"
        var lines = [
            "set -euo pipefail",
            "here=$(pwd)",
            "ip link set lo up",
            "layers=\"$here/layers\"",
            "mkdir -p \"$layers\"",
            "mount -t tmpfs tmpfs \"$layers\"",
            "for dir in /etc /var/lib /usr/local /run; do",
            "  name=$(echo \"$dir\" | tr / _)",
            "  mkdir -p \"$layers/$name/upper\" \"$layers/$name/work\"",
            "  mount -t overlay overlay -o \"lowerdir=$dir,upperdir=$layers/$name/upper,workdir=$layers/$name/work\" \"$dir\"",
            "done",
        ]
        lines += image.setup
        for copy in image.copies {
            let source = copy.source == "<herald>" ? binary : root.appendingPathComponent(copy.source).path
            let mode = copy.source == "<herald>" ? "0755" : "0644"
            lines.append("install -D -m \(mode) \(shellQuoted(source)) \(shellQuoted(copy.destination))")
        }
        // One secret as a Docker secret file, one in the environment; the SMTP password and Twilio token are absent.
        lines += [
            "install -d -m 0755 /run/secrets",
            "printf 'webhook-secret-from-a-file\\n' > /run/secrets/webhook-secret",
            "chmod 0444 /run/secrets/webhook-secret",
        ]
        var environment = image.environment.map { "\($0.0)=\($0.1)" }
        environment.append("HERALD_SLACK_TOKEN=xoxb-container-env-token")
        let env = environment.map(shellQuoted).joined(separator: " ")
        let command = (image.entrypoint + image.command).map(shellQuoted).joined(separator: " ")
        let health = image.healthcheck.map(shellQuoted).joined(separator: " ")
        let readyz = (image.healthcheck.last ?? "http://127.0.0.1:8425/healthz").replacingOccurrences(
            of: "/healthz",
            with: "/readyz"
        )
        let checkConfig = (image.entrypoint + ["check-config"]).map(shellQuoted).joined(separator: " ")
        lines += [
            "cd \(shellQuoted(workdir))",
            "\(asUser) env \(env) \(checkConfig)",
            "log=\"$here/serve.log\"",
            "\(asUser) env \(env) \(command) > \"$log\" 2>&1 &",
            "runner=$!",
            "echo \"LAYOUT log=serve.log\"",
            "ready=no",
            "for _ in $(seq 1 300); do",
            "  if grep -q 'herald ready' \"$log\"; then ready=yes; break; fi",
            "  kill -0 \"$runner\" 2>/dev/null || break",
            "  sleep 0.1",
            "done",
            "echo \"LAYOUT ready=$ready\"",
            // Docker's HEALTHCHECK runs the image's command as the image's user; /readyz lists what is off.
            "health=0; \(asUser) \(health) > /dev/null 2>&1 || health=$?",
            "echo \"LAYOUT healthcheck=$health\"",
            "echo \"LAYOUT readyz=$(curl -sS \(shellQuoted(readyz)) | tr -d '\\n')\"",
            "pid=$runner  # setpriv and env exec, so the background job is herald itself",
            "echo \"LAYOUT process_user=$(ps -o user= -p \"$pid\" | tr -d ' ')\"",
            "echo \"LAYOUT database_owner=$(stat -c %U /var/lib/herald/herald.db)\"",
            "kill -TERM \"$pid\" 2>/dev/null || true",
            "status=0; wait \"$runner\" || status=$?",
            "echo \"LAYOUT stopped=$status\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func run(_ executable: String, _ arguments: [String], in directory: URL) async throws -> CommandResult {
        let stdout = directory.appendingPathComponent("run.out")
        let stderr = directory.appendingPathComponent("run.err")
        let process = try ProcessLauncher.launch(
            URL(fileURLWithPath: executable),
            arguments: arguments,
            stdout: stdout,
            stderr: stderr,
            directory: directory
        )
        guard await ProcessLauncher.waitForExit(process, timeout: .seconds(120)) else {
            process.terminate()
            throw HarnessError("the container-layout script did not finish within 120 s")
        }
        return CommandResult(
            exitCode: process.terminationStatus,
            stdout: (try? String(contentsOf: stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        )
    }
}
