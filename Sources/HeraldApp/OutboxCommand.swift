import Foundation
import HeraldOutbox
import Logging
import ServiceLifecycle

/// `herald outbox`: serves provider-shaped endpoints on loopback for trying Herald with no network and no
/// accounts (SPEC §15). The example configuration points every notifier at it.
public enum OutboxCommand {
    /// Runs the outbox until SIGTERM/SIGINT; returns the exit code.
    public static func run(listen: String, smtpListen: String, record: String?, quiet: Bool) async -> Int32 {
        guard let http = HostPort(listen) else {
            CommandOutput.failure("--listen: must be host:port, such as 127.0.0.1:8426")
            return 64
        }
        guard let smtp = HostPort(smtpListen) else {
            CommandOutput.failure("--smtp-listen: must be host:port, such as 127.0.0.1:2526")
            return 64
        }
        let options = Outbox.Options(
            httpHost: http.host,
            httpPort: http.port,
            smtpHost: smtp.host,
            smtpPort: smtp.port,
            recordPath: record
        )
        let outbox: Outbox
        do {
            outbox = try await Outbox.start(options) { entry in
                if !quiet { CommandOutput.line("outbox: " + entry.line) }
            }
        } catch {
            CommandOutput.failure("cannot start the outbox: \(error)")
            return 1
        }
        CommandOutput.line(
            "outbox listening http=\(http.host):\(outbox.http.port) smtp=\(smtp.host):\(outbox.smtp.port)"
                + (record.map { " record=\($0)" } ?? "")
        )
        var logger = Logger(label: "herald-outbox")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [OutboxService(outbox: outbox)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            CommandOutput.failure("outbox failed: \(error)")
            return 1
        }
        CommandOutput.line("outbox stopped after \(outbox.entries().count) requests")
        return 0
    }
}

/// Keeps the outbox up until graceful shutdown, then stops it.
private struct OutboxService: Service {
    let outbox: Outbox

    func run() async throws {
        try? await gracefulShutdown()
        try await outbox.shutdown()
    }
}

/// `host:port`.
struct HostPort {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        host = String(text[..<colon])
        self.port = port
        if host.isEmpty { return nil }
    }
}
