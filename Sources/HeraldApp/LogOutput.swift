import Foundation
import HeraldCore
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where log lines go: a file descriptor (stdout) or a capture buffer for tests. Lines are written whole.
public final class LogOutput: Sendable {
    private enum Target {
        case descriptor(Int32)
        case capture
    }

    private let target: Target
    private let captured = Mutex<[String]>([])
    /// Secret values scrubbed from every line as a last line of defence.
    private let secrets: Mutex<[String]>

    /// Lines go to standard output.
    public static func standardOutput(secrets: [String] = []) -> LogOutput {
        LogOutput(target: .descriptor(1), secrets: secrets)
    }

    /// Lines are kept in memory (tests).
    public static func capture(secrets: [String] = []) -> LogOutput {
        LogOutput(target: .capture, secrets: secrets)
    }

    private init(target: Target, secrets: [String]) {
        self.target = target
        self.secrets = Mutex(secrets)
    }

    /// Replaces the secret values to scrub (configuration reload).
    public func setSecrets(_ values: [String]) {
        secrets.withLock { $0 = values }
    }

    /// Writes one line (a newline is added).
    public func write(_ line: String) {
        let values = secrets.withLock { $0 }
        let clean = values.isEmpty ? line : Redaction.scrub(line, secrets: values)
        switch target {
        case .capture:
            captured.withLock { $0.append(clean) }
        case .descriptor(let fd):
            var bytes = Array(clean.utf8)
            bytes.append(0x0A)
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }

    /// The lines captured so far.
    public var lines: [String] { captured.withLock { $0 } }
}

/// A `LogHandler` writing one `logfmt` or JSON line per record.
public struct HeraldLogHandler: LogHandler {
    /// Line formats.
    public enum Format: String, Sendable {
        case logfmt
        case json
    }

    public var metadata: Logger.Metadata = [:]
    /// The level, shared by every logger of the process so a reload changes it everywhere.
    public var logLevel: Logger.Level {
        get { level.value }
        set { level.value = newValue }
    }
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let level: LogLevelBox
    private let format: Format
    private let output: LogOutput
    /// journald stamps lines itself; elsewhere each line carries `ts=`.
    private let includeTimestamp: Bool

    public init(label: String, level: LogLevelBox, format: Format, output: LogOutput, includeTimestamp: Bool) {
        self.label = label
        self.level = level
        self.format = format
        self.output = output
        self.includeTimestamp = includeTimestamp
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var fields: [(String, String)] = []
        if includeTimestamp { fields.append(("ts", Timestamp.format(Date()))) }
        fields.append(("level", event.level.rawValue))
        fields.append(("msg", event.message.description))
        for key in merged.keys.sorted() {
            fields.append((key, Self.flatten(merged[key]!)))
        }
        output.write(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    private static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(flatten).joined(separator: ",")
        case .dictionary(let values):
            values.keys.sorted().map { "\($0)=\(flatten(values[$0]!))" }.joined(separator: ",")
        }
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes =
                value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.isNewline }
            guard needsQuotes else { return "\(key)=\(value)" }
            var escaped = ""
            for character in value {
                switch character {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                case "\r": escaped += "\\r"
                default: escaped.append(character)
                }
            }
            return "\(key)=\"\(escaped)\""
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        var object: [JSONKey: JSONValue] = [:]
        for (key, value) in fields { object[key] = .string(value) }
        let data = (try? JSONValue.object(object).canonicalData()) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// The process-wide log level, changeable at run time (SIGHUP reload).
public final class LogLevelBox: Sendable {
    private let storage: Mutex<Logger.Level>

    public init(_ level: Logger.Level) {
        storage = Mutex(level)
    }

    /// The current level.
    public var value: Logger.Level {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
