import ArgumentParser
import Foundation
import HeraldApp

/// Options every command takes.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $HERALD_CONFIG, else /etc/herald/herald.yaml).")
    var config: String?

    var path: String { ConfigurationLoader.path(explicit: config) }
}

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Herald: the notification dispatch daemon.",
        subcommands: [
            Serve.self, Enqueue.self, Import.self, Status.self, SendTest.self, Deliveries.self, Explain.self,
            Migrate.self, CheckConfig.self, OutboxServe.self,
        ]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon until SIGTERM.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let code = await Daemon.serve(configPath: options.path)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store events from a file or stdin (JSON lines or a JSON array); all or nothing."
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "A file, or - for standard input.") var input: String = "-"
    @Flag(help: "Store each line as soon as it is read (each line is its own batch).") var stream = false

    func run() async throws {
        let code = await Commands.enqueue(configPath: options.path, input: input, stream: stream)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upsert organizations, users, teams, projects, subscriptions and preferences; all or nothing."
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "A directory JSON file, or - for standard input.") var input: String

    func run() async throws {
        let code = await Commands.importDirectory(configPath: options.path, input: input)
        if code != 0 { throw ExitCode(code) }
    }
}

struct SendTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test",
        abstract: "Send a test message through a notifier now and print the outcome."
    )
    @OptionGroup var options: ConfigOption
    @Option(help: "The notifier id.") var notifier: Int
    @Option(help: "The address: an email, a Slack id or webhook URL, a phone number, a URL, a routing key.")
    var to: String

    func run() async throws {
        let code = await Commands.sendTest(configPath: options.path, notifierId: notifier, to: to)
        if code != 0 { throw ExitCode(code) }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Queue depth by state and the oldest due delivery."
    )
    @OptionGroup var options: ConfigOption
    @Option(help: "text or json") var format: String = "text"

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format: must be text or json") }
    }

    func run() async throws {
        let code = await Commands.status(configPath: options.path, json: format == "json")
        if code != 0 { throw ExitCode(code) }
    }
}

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List deliveries and replay dead letters.",
        subcommands: [List.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")
        @OptionGroup var options: ConfigOption
        @Option(help: "pending, leased, retrying, delivered or dead") var state: String?
        @Option(help: "How many at most.") var limit: Int = 100
        @Option(help: "text or json") var format: String = "text"

        func validate() throws {
            guard ["text", "json"].contains(format) else { throw ValidationError("--format: must be text or json") }
        }

        func run() async throws {
            let code = await Commands.listDeliveries(
                configPath: options.path,
                state: state,
                limit: limit,
                json: format == "json"
            )
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead letters back in the queue.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Delivery ids.") var ids: [String] = []
        @Flag(help: "Every dead letter.") var allDead = false

        func run() async throws {
            let code = await Commands.retryDeliveries(configPath: options.path, ids: ids, allDead: allDead)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who got an event on which channel, and who did not, and why."
    )
    @OptionGroup var options: ConfigOption
    @Argument(help: "The event id.") var eventId: String
    @Option(help: "text or json") var format: String = "text"

    func run() async throws {
        let code = await Commands.explain(configPath: options.path, eventId: eventId, json: format == "json")
        if code != 0 { throw ExitCode(code) }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the store's migrations and exit.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let code = await Commands.migrate(configPath: options.path)
        if code != 0 { throw ExitCode(code) }
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration file and exit."
    )
    @OptionGroup var options: ConfigOption

    func run() async throws {
        let code = Commands.checkConfig(configPath: options.path)
        if code != 0 { throw ExitCode(code) }
    }
}

struct OutboxServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract:
            "Serve provider-shaped endpoints on loopback that record and print every delivery (for trying Herald)."
    )
    @Option(help: "HTTP listener (Slack, Teams, PagerDuty, Twilio, webhooks).") var listen = "127.0.0.1:8426"
    @Option(help: "SMTP listener (email).") var smtpListen = "127.0.0.1:2526"
    @Option(help: "Append every request as a JSON line to this file.") var record: String?
    @Flag(help: "Do not print a line per request.") var quiet = false

    func run() async throws {
        let code = await OutboxCommand.run(listen: listen, smtpListen: smtpListen, record: record, quiet: quiet)
        if code != 0 { throw ExitCode(code) }
    }
}
