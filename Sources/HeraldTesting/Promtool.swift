import Foundation

/// `promtool check metrics` (Debian's `prometheus` package) over an exposition text.
public enum Promtool {
    /// What promtool said.
    public struct Verdict: Sendable {
        /// True when promtool accepted the text (exit 0, no lint problem).
        public var accepted: Bool
        /// promtool's standard output and error: the problems it found.
        public var output: String
    }

    /// The promtool executable on `PATH`, if any.
    public static func locate() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("promtool")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs `promtool check metrics` with `text` on its standard input; nil when promtool is not installed.
    public static func checkMetrics(_ text: String) throws -> Verdict? {
        try run(["check", "metrics"], file: text, asStandardInput: true)
    }

    /// Runs `promtool check rules` on a rules file holding `yaml`; nil when promtool is not installed.
    public static func checkRules(_ yaml: String) throws -> Verdict? {
        try run(["check", "rules"], file: yaml, asStandardInput: false)
    }

    /// Writes `file` to a temporary file, passed as standard input or as the last argument.
    private static func run(_ arguments: [String], file: String, asStandardInput: Bool) throws -> Verdict? {
        guard let promtool = locate() else { return nil }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herald-promtool-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent(asStandardInput ? "metrics.txt" : "rules.yml")
        let output = directory.appendingPathComponent("output.txt")
        try Data(file.utf8).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let inputHandle = try FileHandle(forReadingFrom: asStandardInput ? input : URL(fileURLWithPath: "/dev/null"))
        let outputHandle = try FileHandle(forWritingTo: output)
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
        }
        let process = Process()
        process.executableURL = promtool
        process.arguments = asStandardInput ? arguments : arguments + [input.path]
        process.standardInput = inputHandle
        process.standardOutput = outputHandle
        process.standardError = outputHandle
        try process.run()
        process.waitUntilExit()
        let said = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return Verdict(accepted: process.terminationStatus == 0, output: said)
    }
}
