import Foundation
import Testing

@testable import HeraldProviders

/// The hand-written Slack body must be byte for byte what the `Codable` encoding gives (golden files, stored
/// payloads and the providers' size budgets all assume one encoding).
@Suite struct SlackPayloadWriterTests {
    static let texts = [
        "plain", "", "quote \" backslash \\ slash / <https://x.example/a?b=c&d|link>",
        "lines\nand\r\ttabs \u{08}\u{0C}\u{01}\u{1F} end", "ünïcödé ✓ 🚀 \u{2028}",
        String(repeating: "long ", count: 700),
    ]

    static var messages: [SlackMessage] {
        var messages: [SlackMessage] = []
        for text in texts {
            messages.append(
                SlackMessage(
                    channel: "C0123456789",
                    text: text,
                    blocks: [
                        .header(.plain(text)), .section(.mrkdwn(text)),
                        .context([.mrkdwn(text), .plain("project · production")]),
                    ],
                    unfurlLinks: false
                )
            )
            messages.append(SlackMessage(channel: nil, text: text, blocks: [.section(.mrkdwn(text))], unfurlLinks: nil))
        }
        messages.append(SlackMessage(channel: "U1", text: "t", blocks: [], unfurlLinks: true))
        messages.append(SlackMessage(channel: "U1", text: "t", blocks: [.context([])], unfurlLinks: nil))
        return messages
    }

    @Test(arguments: messages)
    func sameBytesAsTheCodableEncoding(_ message: SlackMessage) throws {
        let expected = try PayloadJSON.encode(message)
        #expect(String(decoding: message.json, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }
}
