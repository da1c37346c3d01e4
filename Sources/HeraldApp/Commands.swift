import Foundation
import HeraldAPI
import HeraldCore
import HeraldPostgres

/// The implementations of the CLI's commands; `herald`'s `main` only parses arguments and calls these.
public enum Commands {
    /// Opens the configured store for a one-shot command.
    static func withStore<T>(
        configPath: String,
        _ body: (LoadedConfiguration, any Store) async throws -> T
    )
        async throws -> T
    {
        let loaded = try ConfigurationLoader.load(path: configPath)
        let store = try await Daemon.openStore(loaded)
        do {
            let result = try await body(loaded, store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// `herald enqueue [FILE|-]`: validates the whole input and stores it in one transaction.
    /// With `stream`, every line is its own batch, stored as soon as it is read.
    public static func enqueue(configPath: String, input: String, stream: Bool) async -> Int32 {
        MemoryTuning.apply()
        do {
            return try await withStore(configPath: configPath) { loaded, store in
                let intake = EventIntake(catalog: loaded.catalog, notifiers: notifierChannels(loaded.configuration))
                if stream {
                    return try await enqueueStream(intake: intake, store: store, input: input)
                }
                let data = try readInput(input, limit: 512 * 1024 * 1024)
                let events = try intake.parseDocument(data, now: Date())
                let results = try await store.enqueue(events, now: Date())
                CommandOutput.lines(
                    results.map { result in
                        switch result {
                        case .accepted(let id): "accepted \(id)"
                        case .duplicate(let id): "duplicate \(id)"
                        }
                    }
                )
                return 0
            }
        } catch {
            CommandOutput.failure(describe(error))
            return exitCode(for: error)
        }
    }

    private static func enqueueStream(intake: EventIntake, store: any Store, input: String) async throws -> Int32 {
        var failures = 0
        var lineNumber = 0
        // Lines stay raw bytes until intake validates them: invalid UTF-8 is refused like in a whole document,
        // never replaced by U+FFFD.
        func handle(_ line: Data) async {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            do {
                let events = try intake.parseDocument(line, now: Date())
                for result in try await store.enqueue(events, now: Date()) {
                    switch result {
                    case .accepted(let id): CommandOutput.line("accepted \(id)")
                    case .duplicate(let id): CommandOutput.line("duplicate \(id)")
                    }
                }
            } catch {
                failures += 1
                CommandOutput.failure("line \(lineNumber): \(describe(error))")
            }
        }
        if input == "-" {
            var lines = RawLineReader(fileDescriptor: 0)
            while let line = lines.next() {
                await handle(line)
            }
        } else {
            let data = try readInput(input, limit: 512 * 1024 * 1024)
            var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
            if data.last == 0x0A { lines.removeLast() }
            for line in lines {
                await handle(Data(line))
            }
        }
        return failures == 0 ? 0 : 1
    }

    /// The configured notifiers' channels by id, which events and directory entries may name.
    static func notifierChannels(_ configuration: HeraldConfiguration) -> [Int: Channel] {
        var channels: [Int: Channel] = [:]
        for notifier in configuration.notifiers {
            if let channel = Channel(rawValue: notifier.channel) { channels[notifier.id] = channel }
        }
        return channels
    }

    static func readInput(_ input: String, limit: Int) throws -> Data {
        let data: Data
        if input == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: input) else {
                throw CommandError("cannot read \(input)")
            }
            data = contents
        }
        if data.count > limit { throw CommandError("input is larger than \(limit) bytes") }
        return data
    }

    /// `herald import FILE|-`: validates a directory file against what is stored and upserts it, all or nothing.
    public static func importDirectory(configPath: String, input: String) async -> Int32 {
        do {
            return try await withStore(configPath: configPath) { loaded, store in
                let data = try readInput(input, limit: 256 * 1024 * 1024)
                let existing = try await store.loadDirectory()
                let document = try DirectoryDocument.parse(
                    data,
                    catalog: loaded.catalog,
                    existing: existing,
                    notifiers: notifierChannels(loaded.configuration)
                )
                try await store.importDirectory(document, now: Date())
                CommandOutput.line(
                    "imported \(document.organizations.count) organizations, \(document.users.count) users, "
                        + "\(document.teams.count) teams, \(document.projects.count) projects, "
                        + "\(document.subscriptions.count) subscriptions, \(document.preferences.count) preferences"
                )
                return 0
            }
        } catch {
            CommandOutput.failure(describe(error))
            return exitCode(for: error)
        }
    }

    /// `herald status`: counts by state and the oldest due delivery; on PostgreSQL also the registered instances.
    public static func status(configPath: String, json: Bool) async -> Int32 {
        do {
            return try await withStore(configPath: configPath) { _, store in
                let status = try await store.status(now: Date())
                let instances = try await (store as? PostgresStore)?.instances()
                if json {
                    var events: [JSONKey: JSONValue] = [:]
                    for state in EventState.allCases {
                        events[state.rawValue] = .number(Double(status.events[state] ?? 0))
                    }
                    var deliveries: [JSONKey: JSONValue] = [:]
                    for state in DeliveryState.allCases {
                        deliveries[state.rawValue] = .number(Double(status.deliveries[state] ?? 0))
                    }
                    var fields: [JSONKey: JSONValue] = [
                        "events": .object(events), "deliveries": .object(deliveries),
                        "oldestDue": status.oldestDue.map { .string(Timestamp.format($0)) } ?? .null,
                    ]
                    if let instances {
                        fields["instances"] = .array(
                            instances.map { instance in
                                .object([
                                    "id": .string(instance.id), "host": .string(instance.host),
                                    "pid": .number(Double(instance.pid)),
                                    "startedAt": .string(Timestamp.format(instance.startedAt)),
                                    "lastSeen": .string(Timestamp.format(instance.lastSeen)),
                                    "secondsSinceSeen": .number((instance.secondsSinceSeen * 10).rounded() / 10),
                                ])
                            }
                        )
                    }
                    let object: JSONValue = .object(fields)
                    CommandOutput.line(String(decoding: try object.canonicalData(), as: UTF8.self))
                } else {
                    CommandOutput.line("events:")
                    for state in EventState.allCases {
                        CommandOutput.line("  \(state.rawValue): \(status.events[state] ?? 0)")
                    }
                    CommandOutput.line("deliveries:")
                    for state in DeliveryState.allCases {
                        CommandOutput.line("  \(state.rawValue): \(status.deliveries[state] ?? 0)")
                    }
                    CommandOutput.line("oldest due: \(status.oldestDue.map(Timestamp.format) ?? "none")")
                    if let instances {
                        CommandOutput.line("instances:")
                        for instance in instances {
                            let seen = String(format: "%.1f", instance.secondsSinceSeen)
                            CommandOutput.line(
                                "  \(instance.id) host=\(instance.host) pid=\(instance.pid) "
                                    + "started=\(Timestamp.format(instance.startedAt)) "
                                    + "lastSeen=\(Timestamp.format(instance.lastSeen)) (\(seen) s ago)"
                            )
                        }
                    }
                }
                return 0
            }
        } catch {
            CommandOutput.failure(describe(error))
            return exitCode(for: error)
        }
    }

    /// `herald deliveries list --state S`.
    public static func listDeliveries(configPath: String, state: String?, limit: Int, json: Bool) async -> Int32 {
        var parsed: DeliveryState?
        if let state {
            guard let value = DeliveryState(rawValue: state) else {
                let names = DeliveryState.allCases.map(\.rawValue).joined(separator: ", ")
                CommandOutput.failure("--state: unknown state \"\(state)\" (\(names))")
                return 64
            }
            parsed = value
        }
        guard (1...100_000).contains(limit) else {
            CommandOutput.failure("--limit: must be between 1 and 100000")
            return 64
        }
        do {
            return try await withStore(configPath: configPath) { _, store in
                let deliveries = try await store.deliveries(state: parsed, limit: limit)
                for delivery in deliveries {
                    if json {
                        CommandOutput.line(String(decoding: try describeJSON(delivery).canonicalData(), as: UTF8.self))
                    } else {
                        CommandOutput.line(describeLine(delivery))
                    }
                }
                return 0
            }
        } catch {
            CommandOutput.failure(describe(error))
            return exitCode(for: error)
        }
    }

    /// `herald deliveries retry ID…|--all-dead`.
    public static func retryDeliveries(configPath: String, ids: [String], allDead: Bool) async -> Int32 {
        if allDead == !ids.isEmpty {
            CommandOutput.failure("give delivery ids or --all-dead (not both)")
            return 64
        }
        var numbers: [Int64] = []
        for id in ids {
            guard let number = Int64(id), number > 0 else {
                CommandOutput.failure("ID: \"\(id)\" is not a delivery id (a positive integer)")
                return 64
            }
            numbers.append(number)
        }
        do {
            return try await withStore(configPath: configPath) { _, store in
                if !allDead {
                    for id in numbers {
                        guard let delivery = try await store.delivery(id: id) else {
                            throw CommandError("delivery \(id) does not exist")
                        }
                        guard delivery.state == .dead else {
                            throw CommandError("delivery \(id) is \(delivery.state.rawValue), not a dead letter")
                        }
                    }
                }
                let count = try await store.requeueDead(ids: allDead ? nil : numbers, now: Date())
                CommandOutput.line("requeued \(count) dead letter\(count == 1 ? "" : "s")")
                return 0
            }
        } catch {
            CommandOutput.failure(describe(error))
            return exitCode(for: error)
        }
    }

    /// `herald explain EVENT_ID`: who got what on which channel, and who did not, and why.
    public static func explain(configPath: String, eventId: String, json: Bool) async -> Int32 {
        do {
            return try await withStore(configPath: configPath) { _, store in
                guard let record = try await store.eventRecord(id: eventId) else {
                    throw CommandError("event \(eventId) does not exist")
                }
                if json {
                    let object: JSONValue = .object([
                        "id": .string(record.event.id), "key": .string(record.event.key),
                        "state": .string(record.state.rawValue),
                        "rejection": record.rejection.map { .string($0) } ?? .null,
                        "acceptedAt": .string(Timestamp.format(record.acceptedAt)),
                        "deliveries": .array(record.deliveries.map(describeJSON)),
                        "suppressed": .array(
                            record.suppressions.map {
                                .object([
                                    "recipient": .string($0.recipient),
                                    "channel": $0.channel.map { .string($0.rawValue) } ?? .null,
                                    "reason": .string($0.reason),
                                ])
                            }
                        ),
                    ])
                    CommandOutput.line(String(decoding: try object.canonicalData(), as: UTF8.self))
                    return 0
                }
                CommandOutput.line(
                    "event \(record.event.id) key=\(record.event.key) state=\(record.state.rawValue) accepted=\(Timestamp.format(record.acceptedAt))"
                )
                if let rejection = record.rejection { CommandOutput.line("rejected: \(rejection)") }
                CommandOutput.line("deliveries: \(record.deliveries.count)")
                for delivery in record.deliveries { CommandOutput.line("  " + describeLine(delivery)) }
                CommandOutput.line("suppressed: \(record.suppressions.count)")
                for suppression in record.suppressions {
                    CommandOutput.line(
                        "  \(suppression.recipient) channel=\(suppression.channel?.rawValue ?? "all") reason=\(suppression.reason)"
                    )
                }
                return 0
            }
        } catch {
            CommandOutput.failure(describe(error))
            return exitCode(for: error)
        }
    }

    /// `herald migrate`.
    public static func migrate(configPath: String) async -> Int32 {
        do {
            return try await withStore(configPath: configPath) { loaded, _ in
                CommandOutput.line(
                    "migrations applied to \(loaded.configuration.store.sqlite?.path ?? loaded.configuration.store.postgres?.url ?? "store")"
                )
                return 0
            }
        } catch {
            CommandOutput.failure(describe(error))
            return exitCode(for: error)
        }
    }

    /// `herald check-config`: loads, validates and builds every notifier without starting anything.
    public static func checkConfig(configPath: String) -> Int32 {
        do {
            let loaded = try ConfigurationLoader.load(path: configPath)
            let providers = try ProviderFactory.makeProviders(loaded)
            CommandOutput.line(
                "configuration ok: \(providers.all.count) notifiers, \(loaded.catalog.allEntries.count) event keys"
            )
            for notifier in loaded.notConfigured {
                CommandOutput.line(
                    "notifier \(notifier.id) (\(notifier.name)) not configured: "
                        + "\(notifier.missingSecrets.joined(separator: ", ")) absent"
                )
            }
            if loaded.configuration.otp != nil, loaded.secret("otp.secret") == nil {
                CommandOutput.line("one-time passcodes off: otp.secret absent")
            }
            if loaded.configuration.links.publicURL != nil, Daemon.linkSigner(loaded) == nil {
                CommandOutput.line("one-click unsubscribe and the preference center off: auth.linkSecret absent")
            }
            return 0
        } catch {
            CommandOutput.failure("\(configPath): " + error.problems.map(\.description).joined(separator: "; "))
            return 2
        }
    }

    static func describeLine(_ delivery: Delivery) -> String {
        var text =
            "\(delivery.id) event=\(delivery.eventId) channel=\(delivery.channel.rawValue) notifier=\(delivery.notifierId) recipient=\(delivery.recipient.logLabel) state=\(delivery.state.rawValue) attempts=\(delivery.attempts)"
        if let receipt = delivery.receipt { text += " receipt=\(receipt)" }
        if let error = delivery.lastError { text += " last_error=\"\(error)\"" }
        return text
    }

    /// The JSON form of a delivery: the same shape as the API's (`GET /deliveries`, `GET /events/{id}`).
    static func describeJSON(_ delivery: Delivery) -> JSONValue {
        EventJSON.delivery(delivery)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let failure as ValidationFailure: failure.description
        case let failure as ConfigurationError: failure.problems.map(\.description).joined(separator: "; ")
        case let failure as StoreError: failure.description
        case let failure as CommandError: failure.message
        default: "\(error)"
        }
    }

    static func exitCode(for error: any Error) -> Int32 {
        switch error {
        case is ValidationFailure: 65  // EX_DATAERR
        case is ConfigurationError: 78  // EX_CONFIG
        case StoreError.idempotencyConflict: 65
        case StoreError.unavailable: 75  // EX_TEMPFAIL
        default: 1
        }
    }
}

/// A command failure with a one-line reason.
struct CommandError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Reads lines of raw bytes from a file descriptor as they arrive (LF-terminated; the last may lack it).
struct RawLineReader {
    let fileDescriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false

    init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    mutating func next() -> Data? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Data(buffer[start..<newline])
                start = newline + 1
                return line
            }
            if finished {
                guard start < buffer.count else { return nil }
                let line = Data(buffer[start...])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count <= 0 {
                if count < 0, errno == EINTR { continue }
                finished = true
            } else {
                buffer.append(contentsOf: chunk[0..<count])
            }
        }
    }
}
