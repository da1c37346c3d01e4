import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// The email rendering: golden files for every key, and the message structure checked the way a mail
/// client and an SMTP relay read it (SPEC §9, providers.md §5.4).
@Suite("Email rendering")
struct EmailRenderingTests {
    let provider = EmailFixtures.provider

    func render(
        _ key: String,
        recipient: Recipient = EmailFixtures.ann,
        reason: DeliveryReason? = nil
    ) throws
        -> RenderedMessage
    {
        try provider.render(Fixtures.input(key, recipient: recipient, reason: reason))
    }

    @Test("Golden email", arguments: Fixtures.goldenKeys)
    func golden(key: String) throws {
        let message = try render(key)
        #expect(message.contentType == "message/rfc822")
        #expect(message.truncations.isEmpty)
        try GoldenFiles.check(message.body, name: "email/\(key).eml")
    }

    @Test("Golden email of a templated custom key")
    func goldenTemplated() throws {
        let templated = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailFixtures.connection,
            templates: try EmailFixtures.bundledTemplates()
        )
        let message = try templated.render(Fixtures.input("payout_processed", recipient: EmailFixtures.ann))
        #expect(message.truncations.isEmpty)
        try GoldenFiles.check(message.body, name: "email/payout_processed-templated.eml")
        let text = try #require(try ParsedMail(message.body).textPart?.text)
        #expect(text.contains("Hello Ann Lee,"))
        #expect(text.contains("Payout of $1,250.00 processed for Acme: 1250 USD."))
    }

    @Test(
        "Every line ends in CRLF and stays within 998 octets; the MIME structure parses back",
        arguments: Fixtures.goldenKeys
    )
    func structure(key: String) throws {
        let message = try render(key)
        let lines = try crlfLines(message.body)
        #expect(lines.allSatisfy { $0.count <= 998 })
        // Quoted-printable keeps body lines at 76; folded headers stay near 78 (encoded words allow a few more).
        #expect(lines.allSatisfy { $0.count <= 100 }, "a line is longer than expected")
        #expect(message.body.allSatisfy { $0 < 0x80 }, "8-bit data without 8BITMIME")

        let mail = try ParsedMail(message.body)
        #expect(mail.parts.count == 2)
        let text = try #require(mail.textPart)
        let html = try #require(mail.htmlPart)
        #expect(mail.parts.first?.header("Content-Type") == "text/plain; charset=UTF-8", "text first, HTML last")
        #expect(html.header("Content-Type") == "text/html; charset=UTF-8")

        let settings = Fixtures.context(key).settingsURL!
        let unsubscribe = Fixtures.context(key).unsubscribeURL!
        let event = Fixtures.event(key)
        let content = NeutralContent(Fixtures.input(key, recipient: EmailFixtures.ann))
        #expect(text.text.contains(content.title))
        if let title = event.issue?.title {
            #expect(text.text.contains(title))
            #expect(html.text.contains(EmailBody.escape(title)))
        }
        // A critical key (one-time passcodes) cannot be muted: it carries no settings or unsubscribe link.
        let critical = Fixtures.catalog.entry(for: key)?.critical == true
        #expect(text.text.contains(settings) != critical)
        #expect(html.text.contains("href=\"\(settings)\"") != critical)
        #expect(text.text.contains("Unsubscribe: \(unsubscribe)") != critical)
        #expect(html.text.contains("href=\"\(unsubscribe)\"") != critical)
        #expect(text.text.contains(content.reasonLine))
        if let url = content.url {
            #expect(html.text.contains("<a href=\"\(EmailBody.escape(url))\""), "the title links to \(url)")
        }

        for name in ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "X-Herald-Event-Id"] {
            #expect(mail.headers(named: name).count == 1, "exactly one \(name)")
        }
        #expect(mail.header("MIME-Version") == "1.0")
        #expect(mail.header("To") == "ann@example.com")
        #expect(mail.header("From") == "Herald Alerts <notify@herald.example>")
        #expect(mail.header("Date") == "Mon, 23 Nov 2026 10:00:00 +0000")
        #expect(mail.header("X-Herald-Event-Id") == event.id)
        #expect(mail.header("List-Unsubscribe") == (critical ? nil : "<\(unsubscribe)>"))
        #expect(mail.header("List-Unsubscribe-Post") == (critical ? nil : "List-Unsubscribe=One-Click"))
        #expect(mail.header("Auto-Submitted") == "auto-generated")
        #expect(ParsedMail.decodeEncodedWords(mail.header("Subject") ?? "") == "[Herald] \(content.title)")
    }

    @Test("Subject is prefix, short id and issue title; other keys use their title")
    func subjects() throws {
        let assigned = try ParsedMail(try render("assigned").body)
        #expect(assigned.header("Subject") == "[Herald] BACKEND-1A - TypeError: x is undefined")
        let deploy = try ParsedMail(try render("deploy").body)
        #expect(deploy.header("Subject") == "[Herald] Release 2.4.0 deployed to production")

        var input = Fixtures.input("assigned", recipient: EmailFixtures.ann)
        input.context.subjectPrefix = "[Acme Alerts]"
        let prefixed = try ParsedMail(try provider.render(input).body)
        #expect(prefixed.header("Subject") == "[Acme Alerts] BACKEND-1A - TypeError: x is undefined")
    }

    @Test("A non-ASCII subject becomes RFC 2047 encoded words of at most 75 characters and round-trips")
    func encodedSubject() throws {
        var input = Fixtures.input("regression", recipient: EmailFixtures.ann)
        let title = "Ошибка: значение «x» не определено — 数据库连接失败 — Ünïcödé 🚨 handling in zürich/módulo"
        input.event.issue?.title = title
        let message = try provider.render(input)
        let mail = try ParsedMail(message.body)
        let raw = try #require(mail.header("Subject"))
        let words = raw.split(separator: " ")
        #expect(words.count > 2, "a long subject is split into several encoded words")
        for word in words {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            #expect(word.count <= 75)
        }
        #expect(ParsedMail.decodeEncodedWords(raw) == "[Herald] BACKEND-1A - \(title)")
        let text = try #require(mail.textPart?.text)
        #expect(text.contains(title))
        #expect(try crlfLines(message.body).allSatisfy { $0.count <= 998 })
    }

    @Test("Message-ID is stable across renders and differs per recipient")
    func messageID() throws {
        let first = try ParsedMail(try render("assigned").body).header("Message-ID")
        let second = try ParsedMail(try render("assigned").body).header("Message-ID")
        let other = try ParsedMail(try render("assigned", recipient: EmailFixtures.bob).body).header("Message-ID")
        let id = try #require(first)
        #expect(first == second)
        #expect(first != other)
        #expect(id.hasPrefix("<") && id.hasSuffix("@herald.example>"))
        var otherEvent = Fixtures.input("assigned", recipient: EmailFixtures.ann)
        otherEvent.event.id = "evt_01JDQ4ZC7R0000000000000001"
        #expect(try ParsedMail(try provider.render(otherEvent).body).header("Message-ID") != first)

        // The receipt of a delivered message is the stored Message-ID.
        let payload = try render("assigned").body
        let outcome = provider.classify(
            .mail(.accepted(replyCode: 250)),
            for: EmailFixtures.delivery(payload: payload),
            now: Fixtures.now
        )
        #expect(outcome == .delivered(receipt: id))
    }

    @Test("A From without a usable domain still gets a Message-ID")
    func messageIDFallbackDomain() throws {
        let provider = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailConnection(url: EmailFixtures.relayURL, from: "not an address")
        )
        let mail = try ParsedMail(try provider.render(Fixtures.input("assigned", recipient: EmailFixtures.ann)).body)
        #expect(mail.header("Message-ID")?.hasSuffix("@herald.local>") == true)
    }

    @Test("CR and LF in data never start a header of their own")
    func headerInjection() throws {
        var input = Fixtures.input("assigned", recipient: EmailFixtures.ann)
        input.event.issue?.title = "Boom\r\nBcc: evil@x.example\r\n\r\nInjected body"
        input.event.id = "evt_1\r\nX-Injected: yes"
        input.context.subjectPrefix = "[Herald]\nCc: evil@x.example"
        let message = try provider.render(input)
        let lines = try crlfLines(message.body)
        let mail = try ParsedMail(message.body)
        #expect(mail.headers(named: "Bcc").isEmpty)
        #expect(mail.headers(named: "Cc").isEmpty)
        #expect(mail.headers(named: "X-Injected").isEmpty)
        let headerLines = lines.prefix { !$0.isEmpty }
        #expect(!headerLines.contains { $0.starts(with: Array("Bcc:".utf8)) })
        #expect(mail.header("Subject")?.contains("Boom Bcc: evil@x.example Injected body") == true)
        #expect(mail.parts.count == 2)
    }

    @Test("A From display name with specials is quoted; a non-ASCII one is encoded")
    func displayNames() throws {
        for (from, expected) in [
            ("Acme, Inc. Alerts <notify@acme.example>", "\"Acme, Inc. Alerts\" <notify@acme.example>"),
            ("Überwachung <notify@acme.example>", "=?UTF-8?B?w5xiZXJ3YWNodW5n?= <notify@acme.example>"),
            ("notify@acme.example", "notify@acme.example"),
            ("Evil\r\nBcc: x@y.example <notify@acme.example>", "\"Evil Bcc: x@y.example\" <notify@acme.example>"),
        ] {
            let provider = EmailProvider(
                notifier: EmailFixtures.notifier,
                connection: EmailConnection(url: EmailFixtures.relayURL, from: from)
            )
            let mail = try ParsedMail(
                try provider.render(Fixtures.input("resolved", recipient: EmailFixtures.ann)).body
            )
            #expect(mail.header("From") == expected)
            #expect(mail.headers(named: "Bcc").isEmpty)
        }
    }

    @Test("Body lines that are a lone dot, very long or full of markup survive intact")
    func bodyEncoding() throws {
        var input = Fixtures.input("note", recipient: EmailFixtures.ann)
        let text =
            "first\r\n.\r\n" + String(repeating: "é<b>&", count: 600) + "\n" + String(repeating: "x", count: 5000)
            + " \nlast line  "
        input.event.data["text"] = .string(text)
        let message = try provider.render(input)
        let lines = try crlfLines(message.body)
        #expect(!lines.contains([UInt8(ascii: ".")]), "no lone dot line")
        let mail = try ParsedMail(message.body)
        let expected = text.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(mail.textPart?.text.contains(expected) == true)
        #expect(mail.htmlPart?.text.contains("é&lt;b&gt;&amp;") == true)
        #expect(mail.htmlPart?.text.contains("<b>&") == false)
    }

    @Test("Unsafe links are not linked; no unsubscribe link of Herald's means no List-Unsubscribe")
    func links() throws {
        var input = Fixtures.input("payout_processed", recipient: EmailFixtures.ann)
        input.event.data["url"] = .string("javascript:alert(1)")
        input.context.unsubscribeURL = nil
        let mail = try ParsedMail(try provider.render(input).body)
        #expect(mail.htmlPart?.text.contains("javascript:") == false)
        #expect(mail.header("List-Unsubscribe") == nil, "a settings page elsewhere is not a one-click endpoint")
        #expect(mail.header("List-Unsubscribe-Post") == nil)
        #expect(mail.textPart?.text.contains("Notification settings: https://tracker.example/") == true)
        #expect(mail.textPart?.text.contains("Unsubscribe:") == false)
    }

    @Test("An overlong subject is cut with a visible mark and reported")
    func longSubject() throws {
        var input = Fixtures.input("assigned", recipient: EmailFixtures.ann)
        input.event.issue?.title = String(repeating: "A", count: 3000)
        let message = try provider.render(input)
        #expect(message.truncations == ["email subject cut to 250 characters"])
        let lines = try crlfLines(message.body)
        #expect(lines.allSatisfy { $0.count <= 998 })
        let subject = ParsedMail.decodeEncodedWords(try #require(try ParsedMail(message.body).header("Subject")))
        #expect(subject.hasSuffix("…"))
        #expect(subject.unicodeScalars.count == 250)
    }

    @Test("A recipient that is not a plain address cannot be rendered")
    func invalidRecipient() {
        for address in ["ann@example.com\r\nBcc: evil@x.example", "Ann <ann@example.com>", "not-an-address"] {
            let recipient = Recipient(kind: .address, address: address)
            #expect(throws: DeliveryError.self) {
                try provider.render(Fixtures.input("assigned", recipient: recipient))
            }
        }
    }

    @Test(
        "Quoted-printable keeps lines at 76 and decodes back",
        arguments: [
            "", "plain", "trailing space ", "tab\tinside", "=equals=", String(repeating: "ü", count: 100),
            String(repeating: "a", count: 75) + " ", ".leading dot", String(repeating: "b", count: 75) + ".",
        ]
    )
    func quotedPrintable(text: String) throws {
        let encoded = QuotedPrintable.encode(text)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
            #expect(!line.hasPrefix("."))
        }
        let decoded = String(data: try ParsedMail.decodeQuotedPrintable(encoded), encoding: .utf8)
        #expect(decoded == text)
    }
}
