import Foundation

/// A Slack message body for `chat.postMessage` or an incoming webhook (providers.md §1.1, §1.2).
struct SlackMessage: Encodable, Sendable, Hashable {
    /// The channel or user id; nil for incoming webhooks, whose channel is fixed by the hook.
    var channel: String?
    /// The notification and screen-reader fallback; always set.
    var text: String
    var blocks: [SlackBlock]
    /// Issue links would otherwise expand into large previews under every message.
    var unfurlLinks: Bool?

    private enum CodingKeys: String, CodingKey {
        case channel
        case text
        case blocks
        case unfurlLinks = "unfurl_links"
    }
}

/// The Block Kit blocks Herald uses.
enum SlackBlock: Encodable, Sendable, Hashable {
    /// A large plain-text title (at most 150 characters).
    case header(SlackTextObject)
    /// A paragraph (at most 3000 characters).
    case section(SlackTextObject)
    /// Small print under the message (at most 10 elements).
    case context([SlackTextObject])

    private enum CodingKeys: String, CodingKey {
        case type
        case text
        case elements
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .header(let text):
            try container.encode("header", forKey: .type)
            try container.encode(text, forKey: .text)
        case .section(let text):
            try container.encode("section", forKey: .type)
            try container.encode(text, forKey: .text)
        case .context(let elements):
            try container.encode("context", forKey: .type)
            try container.encode(elements, forKey: .elements)
        }
    }
}

/// A Block Kit text object.
struct SlackTextObject: Encodable, Sendable, Hashable {
    /// `plain_text` or `mrkdwn`.
    var type: String
    var text: String

    /// Text Slack shows as typed: no formatting, no escaping needed.
    static func plain(_ text: String) -> SlackTextObject { SlackTextObject(type: "plain_text", text: text) }

    /// mrkdwn text: data in it must already be escaped (`SlackMrkdwn`).
    static func mrkdwn(_ text: String) -> SlackTextObject { SlackTextObject(type: "mrkdwn", text: text) }
}

extension SlackMessage {
    /// The JSON body, byte for byte what `PayloadJSON.encode(self)` gives, written without the `Codable` round
    /// trip (once per Slack recipient, it was the largest part of fan-out in W1's profile).
    var json: Data {
        var writer = PayloadJSON.Writer(capacity: 256 + text.utf8.count * 2)
        writer.object { members in
            members.member("blocks") { $0.array(blocks) { writer, block in block.write(to: &writer) } }
            if let channel { members.member("channel", string: channel) }
            members.member("text", string: text)
            if let unfurlLinks { members.member("unfurl_links") { $0.bool(unfurlLinks) } }
        }
        return writer.data
    }
}

extension SlackBlock {
    fileprivate func write(to writer: inout PayloadJSON.Writer) {
        writer.object { members in
            switch self {
            case .header(let text):
                members.member("text") { text.write(to: &$0) }
                members.member("type", string: "header")
            case .section(let text):
                members.member("text") { text.write(to: &$0) }
                members.member("type", string: "section")
            case .context(let elements):
                members.member("elements") { $0.array(elements) { writer, element in element.write(to: &writer) } }
                members.member("type", string: "context")
            }
        }
    }
}

extension SlackTextObject {
    fileprivate func write(to writer: inout PayloadJSON.Writer) {
        writer.object { members in
            members.member("text", string: text)
            members.member("type", string: type)
        }
    }
}
