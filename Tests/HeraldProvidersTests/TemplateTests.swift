import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// Custom key templates (SPEC §3.3): loading, the values they see, and the plain fallback when one fails.
@Suite("Templates")
struct TemplateTests {
    /// A fresh directory holding `files` (relative path → text); removed by the caller.
    static func directory(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-templates-\(UUID().uuidString)"
        )
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data(text.utf8).write(to: url)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    static let payoutInput = Fixtures.input("payout_processed", recipient: EmailFixtures.ann)

    @Test("The bundled templates load, one per key and channel")
    func loadsDirectory() throws {
        let library = try EmailFixtures.bundledTemplates()
        #expect(library.count == 3)
        #expect(library.hasTemplate(key: "payout_processed", channel: .email))
        #expect(!library.hasTemplate(key: "payout_processed", channel: .sms))
        #expect(
            library.path(key: "payout_processed", channel: .email)?.hasSuffix("payout_processed/email.mustache") == true
        )
    }

    @Test("A custom key renders with its template: event, data, recipient and reason, without HTML escaping")
    func rendersTemplate() throws {
        let library = try TemplateLibrary(templates: [
            "payout_processed/email":
                "{{key}} {{id}} {{organization}} {{data.title}} {{data.amount}} {{recipient.name}} <{{recipient.address}}>\n"
                + "{{#data.text}}{{.}}{{/data.text}}\n{{reason}}\n{{settingsURL}}\n{{occurredAt}}"
        ])
        let outcome = library.render(key: "payout_processed", channel: .email, input: Self.payoutInput)
        let expected = """
            payout_processed evt_01JDQ4ZC7R0000000000000000 acme Payout of $1,250.00 processed 1250 Ann Lee <ann@example.com>
            Your payout to account ••••6789 was sent & should arrive in 1–2 business days.
            You are receiving this because the sender addressed this notification to you.
            https://tracker.example/settings/notifications/payout_processed
            2026-11-23T10:00:00.000Z
            """
        #expect(outcome == .rendered(expected))
        #expect(library.render(key: "payout_processed", channel: .slack, input: Self.payoutInput) == .none)
        #expect(library.render(key: "new_message_creator", channel: .email, input: Self.payoutInput) == .none)
    }

    @Test("Issue and actor fields, nested data and sections")
    func issueFields() throws {
        let library = try TemplateLibrary(templates: [
            "payout_processed/webhook":
                "{{#issue}}{{shortId}} {{title}} {{url}}{{/issue}}|{{actor.name}}|{{^actor}}system{{/actor}}|"
                + "{{#data.items}}[{{name}}]{{/data.items}}|{{data.nested.deep.value}}|{{#data.flag}}flag{{/data.flag}}"
        ])
        var input = Self.payoutInput
        input.event.issue = Fixtures.issue
        input.event.data["items"] = .array([.object(["name": .string("a")]), .object(["name": .string("b")])])
        input.event.data["nested"] = .object(["deep": .object(["value": .number(2.5)])])
        input.event.data["flag"] = .bool(true)
        let outcome = library.render(key: "payout_processed", channel: .webhook, input: input)
        #expect(
            outcome
                == .rendered(
                    "BACKEND-1A TypeError: x is undefined https://tracker.example/acme/issues/9001/||system|[a][b]|2.5|flag"
                )
        )
    }

    @Test("Fields the event lacks render as empty text")
    func missingFields() throws {
        let library = try TemplateLibrary(templates: [
            "payout_processed/email": "A{{data.nothing}}B{{issue.title}}C{{actor.name}}D{{data.title.deeper}}E"
        ])
        #expect(library.render(key: "payout_processed", channel: .email, input: Self.payoutInput) == .rendered("ABCDE"))
    }

    @Test("A template with a syntax error fails the load with its path and line")
    func syntaxError() throws {
        let root = try Self.directory([
            "payout_processed/email.mustache": "Hello\n{{#data}}\n{{title}}\n{{/items}}\n",
            "payout_processed/slack.mustache": "fine",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            _ = try TemplateLibrary(directory: root)
            Issue.record("expected a load error")
        } catch let error as TemplateLoadError {
            #expect(error.path.hasSuffix("payout_processed/email.mustache"))
            #expect(error.path.hasPrefix(root.standardizedFileURL.path))
            #expect(error.line == 4)
            #expect(error.description.contains("payout_processed/email.mustache:4:"))
        }
        #expect(throws: TemplateLoadError.self) {
            try TemplateLibrary(templates: ["payout_processed/email": "{{unclosed"])
        }
    }

    @Test("A file named after no channel, a stray top-level template and a missing directory fail the load")
    func badLayout() throws {
        let misnamed = try Self.directory(["payout_processed/mail.mustache": "x"])
        defer { try? FileManager.default.removeItem(at: misnamed) }
        #expect(throws: TemplateLoadError.self) { try TemplateLibrary(directory: misnamed) }

        let stray = try Self.directory(["payout_processed.mustache": "x"])
        defer { try? FileManager.default.removeItem(at: stray) }
        #expect(throws: TemplateLoadError.self) { try TemplateLibrary(directory: stray) }

        let missing = misnamed.appendingPathComponent("nope")
        #expect(throws: TemplateLoadError.self) { try TemplateLibrary(directory: missing) }

        let ignored = try Self.directory(["payout_processed/README.md": "notes", "payout_processed/sms.mustache": "x"])
        defer { try? FileManager.default.removeItem(at: ignored) }
        #expect(try TemplateLibrary(directory: ignored).count == 1)
    }

    @Test("A template that produces no text, or too much, fails at render time")
    func renderFailures() throws {
        let library = try TemplateLibrary(
            templates: ["payout_processed/email": "{{data.nothing}}\n", "payout_processed/slack": "{{data.text}}"],
            maximumOutputBytes: 20
        )
        guard
            case .failed(let path, let error) = library.render(
                key: "payout_processed",
                channel: .email,
                input: Self.payoutInput
            )
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(path == "payout_processed/email.mustache")
        #expect(error == "the template produced no text")
        guard
            case .failed(_, let tooLarge) = library.render(
                key: "payout_processed",
                channel: .slack,
                input: Self.payoutInput
            )
        else {
            Issue.record("expected a failure")
            return
        }
        #expect(tooLarge.contains("more than the 20 allowed"))
    }

    @Test("A failing template falls back to plain content on every channel and reports its path")
    func fallback() throws {
        let library = try TemplateLibrary(templates: [
            "payout_processed/email": "{{data.nothing}}", "payout_processed/slack": " ", "payout_processed/webhook": "",
        ])
        let warning = { (channel: String) in
            "template failed: payout_processed/\(channel).mustache: the template produced no text (plain fallback rendered)"
        }

        let email = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailFixtures.connection,
            templates: library
        )
        let rendered = try email.render(Self.payoutInput)
        #expect(rendered.truncations == [warning("email")])
        let text = try #require(try ParsedMail(rendered.body).textPart?.text)
        #expect(text.contains("Payout of $1,250.00 processed"))
        #expect(text.contains("https://market.example/payouts/po_8812"))
        #expect(text.contains("Event: payout_processed"))
        #expect(text.contains("Template error: the template produced no text"))

        let slack = SlackProvider(
            notifier: Fixtures.slackNotifier,
            connection: SlackConnection(token: Fixtures.slackToken),
            templates: library
        )
        let slackMessage = try slack.render(Fixtures.input("payout_processed", recipient: Fixtures.slackUser))
        #expect(slackMessage.truncations == [warning("slack")])
        #expect(String(decoding: slackMessage.body, as: UTF8.self).contains("Template error"))

        let webhook = WebhookProvider(
            notifier: Fixtures.webhookNotifier,
            connection: WebhookConnection(),
            templates: library
        )
        let webhookMessage = try webhook.render(Fixtures.input("payout_processed", recipient: Fixtures.webhookRoute))
        #expect(webhookMessage.truncations == [warning("webhook")])
        let rendered2 = try JSONValue.parse(webhookMessage.body)["rendered"]
        #expect(rendered2?["text"]?.stringValue?.contains("Template error: the template produced no text") == true)
        #expect(rendered2?["title"]?.stringValue == "Payout of $1,250.00 processed")
    }

    @Test("Slack and webhook use the template for the main text; Slack escapes it as data")
    func slackAndWebhook() throws {
        let library = try EmailFixtures.bundledTemplates()
        let slack = SlackProvider(
            notifier: Fixtures.slackNotifier,
            connection: SlackConnection(token: Fixtures.slackToken),
            templates: library
        )
        let message = try JSONValue.parse(
            try slack.render(Fixtures.input("payout_processed", recipient: Fixtures.slackUser)).body
        )
        let sections = message["blocks"]?.arrayValue?.compactMap { $0["text"]?["text"]?.stringValue } ?? []
        #expect(
            sections.contains("*Payout* 1250 USD for acme &amp; co &lt;b&gt;Payout of $1,250.00 processed&lt;/b&gt;")
        )

        let webhook = WebhookProvider(
            notifier: Fixtures.webhookNotifier,
            connection: WebhookConnection(),
            templates: library
        )
        let body = try JSONValue.parse(
            try webhook.render(Fixtures.input("payout_processed", recipient: Fixtures.webhookRoute)).body
        )
        #expect(
            body["rendered"]?["text"]?.stringValue
                == "payout_processed: Payout of $1,250.00 processed (1250) <https://market.example/payouts/po_8812>"
        )
    }

    @Test("Built-in keys keep Herald's wording even when a template exists")
    func builtInIgnoresTemplates() throws {
        let library = try TemplateLibrary(templates: ["assigned/email": "custom text"])
        let email = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailFixtures.connection,
            templates: library
        )
        let templated = try email.render(Fixtures.input("assigned", recipient: EmailFixtures.ann))
        let plain = try EmailFixtures.provider.render(Fixtures.input("assigned", recipient: EmailFixtures.ann))
        #expect(templated.body == plain.body)
    }

    @Test("Webhook recipients' URLs are not exposed to templates")
    func recipientURLHidden() throws {
        let library = try TemplateLibrary(templates: [
            "payout_processed/webhook": "to:{{recipient.address}}|{{recipient.kind}}"
        ])
        let outcome = library.render(
            key: "payout_processed",
            channel: .webhook,
            input: Fixtures.input("payout_processed", recipient: Fixtures.webhookRoute)
        )
        #expect(outcome == .rendered("to:|route"))
    }
}
