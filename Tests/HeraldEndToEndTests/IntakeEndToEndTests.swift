import Foundation
import Testing

/// One malformed input to `herald enqueue` and what its error must name.
struct MalformedInput: Sendable, CustomTestStringConvertible {
    let name: String
    let input: Data
    /// The one-line error must contain at least one of these.
    let mentions: [String]

    var testDescription: String { name }

    static let webhook = ("webhook", "http://127.0.0.1:9/hook")

    static let all: [MalformedInput] = [
        MalformedInput(
            name: "bad JSON",
            input: Data(#"{"key":"test_notice","organization":"acme","#.utf8),
            mentions: ["line 1", "JSON"]
        ),
        MalformedInput(
            name: "unknown event key",
            input: EventJSON.lines([EventJSON.object(key: "nope", recipients: [webhook])]),
            mentions: ["key"]
        ),
        MalformedInput(
            name: "missing organization",
            input: EventJSON.lines([EventJSON.object(organization: nil, recipients: [webhook])]),
            mentions: ["organization"]
        ),
        MalformedInput(
            name: "CR/LF in an email address",
            input: EventJSON.lines([EventJSON.object(recipients: [("email", "ops@example.com\r\nBcc: x@y.z")])]),
            mentions: ["recipients[0].address"]
        ),
        MalformedInput(
            name: "invalid phone number",
            input: EventJSON.lines([EventJSON.object(recipients: [("sms", "555-CALL-ME")])]),
            mentions: ["recipients[0].address"]
        ),
        MalformedInput(
            name: "oversized event (300 KB data.text)",
            input: EventJSON.lines([
                EventJSON.object(text: String(repeating: "a", count: 300 * 1024), recipients: [webhook])
            ]),
            mentions: ["262144", "larger", "too large"]
        ),
        MalformedInput(
            name: "batch whose second event is invalid",
            input: EventJSON.lines([
                EventJSON.object(id: "batch-ok-1", recipients: [webhook]),
                EventJSON.object(id: "batch-bad-2", organization: nil, recipients: [webhook]),
            ]),
            mentions: ["events[1]"]
        ),
        MalformedInput(
            name: "non-UTF-8 bytes",
            input: Data(#"{"key":"test_notice","organization":"ac"#.utf8) + Data([0xFF, 0xFE, 0xC3])
                + Data(#"me","recipients":[{"channel":"webhook","address":"http://127.0.0.1:9/hook"}]}"#.utf8),
            mentions: ["line 1", "UTF-8", "organization"]
        ),
        MalformedInput(
            name: "10,000-deep nested JSON",
            input: Data(
                (#"{"key":"test_notice","organization":"acme","data":{"deep":"#
                    + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
                    + #"},"recipients":[{"channel":"webhook","address":"http://127.0.0.1:9/hook"}]}"#).utf8
            ),
            mentions: ["line 1", "data", "deep", "nest"]
        ),
    ]
}

extension EndToEndTests {
    @Test(
        "malformed input: exit 65, one `herald:` line naming the field, nothing stored",
        arguments: MalformedInput.all
    )
    func malformedInput(_ malformed: MalformedInput) async throws {
        let env = try HeraldEnvironment()
        defer { env.close() }
        let result = try await env.enqueue(malformed.input)
        #expect(result.exitCode == 65, "\(result)")
        let stderr = result.stderr.trimmingCharacters(in: .newlines)
        #expect(!stderr.contains("\n"), "one line: \(stderr)")
        #expect(stderr.hasPrefix("herald:"), "\(stderr)")
        #expect(
            malformed.mentions.contains { stderr.contains($0) },
            "the error names one of \(malformed.mentions): \(stderr.prefix(500))"
        )
        #expect(stderr.utf8.count < 2000, "a short line, not the input echoed back")
        #expect(!result.stdout.contains("accepted"), "\(result.stdout)")
        let status = try await env.status()
        #expect(status.totalEvents == 0, "nothing stored: \(status)")
    }

    @Test("enqueue is idempotent by client id; a reused id with another body is refused", .timeLimit(.minutes(1)))
    func idempotentEnqueue() async throws {
        let env = try HeraldEnvironment()
        defer { env.close() }
        let webhook = MalformedInput.webhook
        let batch = EventJSON.lines((1...3).map { EventJSON.object(id: "idem-\($0)", recipients: [webhook]) })

        let first = try await env.enqueue(batch)
        #expect(first.exitCode == 0, "\(first)")
        #expect(first.stdoutLines == ["accepted idem-1", "accepted idem-2", "accepted idem-3"])
        let second = try await env.enqueue(batch)
        #expect(second.exitCode == 0, "\(second)")
        #expect(second.stdoutLines == ["duplicate idem-1", "duplicate idem-2", "duplicate idem-3"])
        #expect(try await env.status().totalEvents == 3)

        let conflicting = EventJSON.lines([
            EventJSON.object(id: "idem-4", recipients: [webhook]),
            EventJSON.object(id: "idem-2", text: "a different body", recipients: [webhook]),
        ])
        let third = try await env.enqueue(conflicting)
        #expect(third.exitCode != 0, "\(third)")
        let stderr = third.stderr.trimmingCharacters(in: .newlines)
        #expect(stderr.hasPrefix("herald:") && !stderr.contains("\n"), "\(stderr)")
        #expect(
            stderr.contains("IDEMPOTENCY_CONFLICT") || stderr.contains("already used"),
            "the error says the id was used for another body: \(stderr)"
        )
        #expect(stderr.contains("idem-2"), "the error names the id: \(stderr)")
        #expect(try await env.status().totalEvents == 3, "nothing of the conflicting batch stored")
        let explain = try await env.run(["explain", "idem-4"])
        #expect(explain.exitCode != 0, "idem-4 was not stored: \(explain)")
    }
}
