import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// Header folding (RFC 5322 §2.2.3, RFC 2047 §2) and links that survive truncation (SPEC §9).
@Suite("Payloads: header folding and kept links")
struct PayloadFixesTests {
    static let titles: [String] = [
        "é", "Ошибка: значение «x» не определено", String(repeating: "数", count: 200),
        "Ünïcödé 🚨 handling in zürich/módulo and a rather long ASCII tail that goes on and on and on",
        String(repeating: "e\u{301}", count: 90), String(repeating: "👩‍👩‍👧‍👦", count: 30),
        "ASCII start then ü" + String(repeating: " word", count: 40), String(repeating: "x", count: 200) + "é",
    ]

    /// The header block of a raw message, unfolded into (name, raw lines) pairs.
    static func headerLines(_ message: Data) -> [String] {
        let text = String(decoding: message, as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        return head.components(separatedBy: "\r\n")
    }

    @Test("a line holding encoded words is at most 76 characters; words are whole characters", arguments: titles)
    func encodedSubjectFolding(_ title: String) throws {
        var input = Fixtures.input("regression", recipient: EmailFixtures.ann)
        input.event.issue?.title = title
        let message = try EmailFixtures.provider.render(input)
        let lines = Self.headerLines(message.body)
        var subject: [String] = []
        for line in lines {
            if line.hasPrefix("Subject: ") {
                subject = [line]
            } else if !subject.isEmpty, line.hasPrefix(" ") {
                subject.append(line)
            } else if !subject.isEmpty {
                break
            }
        }
        #expect(!subject.isEmpty)
        for line in subject {
            #expect(line.utf8.count <= 76, "\(line.utf8.count): \(line)")
            let words = line.split(separator: " ").filter { $0.hasPrefix("=?") }
            for word in words {
                #expect(word.count <= 75)
                // Each word decodes on its own to valid UTF-8 ending on a character boundary.
                let base64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
                let bytes = try #require(Data(base64Encoded: String(base64)))
                #expect(String(validating: bytes, as: UTF8.self) != nil, "\(word) splits a character")
            }
        }
        let raw = try #require(try ParsedMail(message.body).header("Subject"))
        #expect(ParsedMail.decodeEncodedWords(raw) == "[Herald] BACKEND-1A - \(title)")
    }

    @Test(
        "encoded words for every header name stay within the line limit",
        arguments: ["Subject", "From", "X-Long-Header-Name"]
    )
    func encodedWordsPerName(_ name: String) {
        for title in Self.titles {
            let header = MailHeader.text(name, title)
            let lines = header.wireText.components(separatedBy: "\r\n").dropLast()
            for line in lines where line.contains("=?UTF-8?B?") {
                #expect(line.utf8.count <= 76, "\(line)")
            }
        }
    }

    static let prTitles: [String] = [
        String(repeating: "Fix ", count: 1000), String(repeating: "&<>", count: 1200),
        String(repeating: "ü", count: 3100), String(repeating: "a|b", count: 1100) + " tail",
    ]

    @Test("a long pull-request title shortens the label and keeps the link on Slack", arguments: prTitles)
    func pullRequestLinkKept(_ title: String) throws {
        let provider = SlackProvider(
            notifier: Fixtures.slackNotifier,
            connection: SlackConnection(apiURL: "https://slack.test/api/", token: Fixtures.slackToken)
        )
        var input = Fixtures.input("resolved_in_pull_request", recipient: Fixtures.slackUser)
        let url = try #require(input.event.data["pullRequest"]?["url"]?.stringValue)
        var pullRequest = try #require(input.event.data["pullRequest"]?.objectValue)
        pullRequest["title"] = .string(title)
        input.event.data["pullRequest"] = .object(pullRequest)
        let message = try provider.render(input)
        let payload = try JSONValue.parse(message.body)
        try SlackRenderingTests.checkStructure(payload)
        let texts = (payload["blocks"]?.arrayValue ?? []).compactMap { $0["text"]?["text"]?.stringValue }
        let section = try #require(texts.first { $0.contains(url) }, "the pull request link is gone: \(texts)")
        #expect(section.unicodeScalars.count <= 3000)
        #expect(section.contains("<\(url)|"))
        #expect(section.hasSuffix("…>"))
        #expect(message.truncations.contains { $0.contains("description") })
    }

    @Test("a link that does not fit is shortened, never split or dropped while its markup fits")
    func truncationBuilderLinks() {
        for limit in [12, 20, 40, 100] {
            var builder = TruncationBuilder(limit: limit)
            builder.append("Intro ")
            builder.append(prefix: "<https://x.t|", label: String(repeating: "label ", count: 30), suffix: ">")
            builder.append("after")
            let text = builder.finish()
            #expect(text.wasTruncated)
            #expect(text.text.unicodeScalars.count <= limit)
            if limit >= "Intro <https://x.t|…>".count {
                #expect(text.text.hasPrefix("Intro <https://x.t|") && text.text.hasSuffix("…>"), "\(text.text)")
            } else {
                #expect(!text.text.contains("<"))
            }
        }
    }
}
