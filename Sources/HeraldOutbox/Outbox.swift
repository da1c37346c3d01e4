import Foundation
import Synchronization

/// A local stand-in for every provider Herald talks to (SPEC §15 "Trying it locally"): an HTTP server answering
/// like Slack, Teams, PagerDuty, Twilio and webhook receivers, and an SMTP server accepting mail. It records
/// every request as a JSON line and reports one readable line per delivery, so a newcomer sees Herald deliver
/// with no network and no account anywhere. See `OutboxRouter` for the paths and the scripted failures.
public final class Outbox: Sendable {
    /// Where the outbox listens and writes.
    public struct Options: Sendable {
        /// The HTTP listener's host and port (port 0 picks a free one).
        public var httpHost: String
        public var httpPort: Int
        /// The SMTP listener's host and port (port 0 picks a free one).
        public var smtpHost: String
        public var smtpPort: Int
        /// The JSON lines file every request is appended to; nil records nothing.
        public var recordPath: String?

        /// Creates options.
        public init(
            httpHost: String = "127.0.0.1",
            httpPort: Int = 8426,
            smtpHost: String = "127.0.0.1",
            smtpPort: Int = 2526,
            recordPath: String? = nil
        ) {
            self.httpHost = httpHost
            self.httpPort = httpPort
            self.smtpHost = smtpHost
            self.smtpPort = smtpPort
            self.recordPath = recordPath
        }
    }

    /// The HTTP server.
    public let http: LocalHTTPServer
    /// The SMTP server.
    public let smtp: LocalSMTPServer
    private let log: OutboxLog

    private init(http: LocalHTTPServer, smtp: LocalSMTPServer, log: OutboxLog) {
        self.http = http
        self.smtp = smtp
        self.log = log
    }

    /// Starts both servers; `report` receives one readable line per request, on the servers' threads.
    public static func start(
        _ options: Options,
        report: @escaping @Sendable (OutboxEntry) -> Void
    ) async throws -> Outbox {
        let log = try OutboxLog(path: options.recordPath, report: report)
        let router = OutboxRouter()
        let http = try await LocalHTTPServer.start(
            host: options.httpHost,
            port: options.httpPort,
            recordRequests: false
        ) { request in
            let (response, entry) = router.answer(request)
            log.append(entry)
            return response
        }
        let smtp: LocalSMTPServer
        do {
            smtp = try await LocalSMTPServer.start(
                host: options.smtpHost,
                port: options.smtpPort,
                recordMessages: false
            ) { mail in
                let (reply, entry) = router.answer(mail)
                log.append(entry)
                return reply
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        return Outbox(http: http, smtp: smtp, log: log)
    }

    /// Every entry recorded since the start.
    public func entries() -> [OutboxEntry] { log.entries() }

    /// Stops both servers and closes the record file.
    public func shutdown() async throws {
        try await http.shutdown()
        try await smtp.shutdown()
        log.close()
    }
}

/// The outbox's memory and record file.
private final class OutboxLog: Sendable {
    private struct State {
        var entries: [OutboxEntry] = []
        var file: FileHandle?
    }

    private let state: Mutex<State>
    private let report: @Sendable (OutboxEntry) -> Void
    /// Kept in memory for `entries()`, newest last; older ones stay only in the file.
    private let memoryLimit = 10_000

    init(path: String?, report: @escaping @Sendable (OutboxEntry) -> Void) throws {
        var file: FileHandle?
        if let path {
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
            file = handle
        }
        state = Mutex(State(file: file))
        self.report = report
    }

    func append(_ entry: OutboxEntry) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = (try? encoder.encode(entry)) ?? Data()
        line.append(0x0A)
        state.withLock { state in
            state.entries.append(entry)
            if state.entries.count > memoryLimit { state.entries.removeFirst(state.entries.count - memoryLimit) }
            try? state.file?.write(contentsOf: line)
        }
        report(entry)
    }

    func entries() -> [OutboxEntry] {
        state.withLock { $0.entries }
    }

    func close() {
        state.withLock { state in
            try? state.file?.close()
            state.file = nil
        }
    }
}
