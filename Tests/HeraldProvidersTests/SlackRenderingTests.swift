import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

@Suite("Slack rendering")
struct SlackRenderingTests {
    let provider = SlackProvider(
        notifier: Fixtures.slackNotifier,
        connection: SlackConnection(apiURL: "https://slack.test/api/", token: Fixtures.slackToken)
    )

    static let recipients = [Fixtures.slackUser, Fixtures.slackHook]

    @Test("Block Kit limits hold for every key and address", arguments: Fixtures.goldenKeys, recipients)
    func limits(key: String, recipient: Recipient) throws {
        let message = try provider.render(Fixtures.input(key, recipient: recipient))
        #expect(message.contentType == "application/json; charset=utf-8")
        #expect(message.truncations.isEmpty)
        let payload = try JSONValue.parse(message.body)
        try Self.checkStructure(payload)
        if recipient.address.hasPrefix("https://") {
            #expect(payload["channel"] == nil)
        } else {
            #expect(payload["channel"] == .string(recipient.address))
        }
        #expect(payload["unfurl_links"] == .bool(false))
    }

    @Test("Data is escaped, our own link markup is not")
    func escaping() throws {
        let message = try provider.render(Fixtures.input("note", recipient: Fixtures.slackUser))
        let payload = try JSONValue.parse(message.body)
        let blocks = try #require(payload["blocks"]?.arrayValue)
        let texts = blocks.compactMap { $0["text"]?["text"]?.stringValue }
        let body = try #require(texts.first { $0.contains("script") })
        #expect(body == "Looks like &lt;script&gt; &amp; friends again — @ann can you check &gt; prod?")
        // The linked title keeps its markup.
        #expect(texts.first == "*<https://tracker.example/acme/issues/9001/|BACKEND-1A - TypeError: x is undefined>*")
    }

    @Test("Link labels cannot end the link early")
    func linkLabels() throws {
        let message = try provider.render(Fixtures.input("resolved_in_pull_request", recipient: Fixtures.slackUser))
        let payload = try JSONValue.parse(message.body)
        let section = try #require(payload["blocks"]?.arrayValue?[1]["text"]?["text"]?.stringValue)
        #expect(section.contains("<https://git.example/acme/backend/pull/482|Guard against undefined x ¦ hotfix>"))
        #expect(
            SlackMrkdwn.link("https://x.example/a?b=1&c=2", label: "a > b | c <d>")
                == "<https://x.example/a?b=1&amp;c=2|a &gt; b ¦ c &lt;d&gt;>"
        )
    }

    @Test("A 10,000-character comment is cut to 3000 with a visible ellipsis")
    func longComment() throws {
        var input = Fixtures.input("note", recipient: Fixtures.slackUser)
        input.event.data["text"] = .string(String(repeating: "a&b ", count: 2500))
        let message = try provider.render(input)
        let payload = try JSONValue.parse(message.body)
        try Self.checkStructure(payload)
        let blocks = try #require(payload["blocks"]?.arrayValue)
        let body = try #require(blocks.compactMap { $0["text"]?["text"]?.stringValue }.first { $0.contains("a&amp;b") })
        #expect(body.hasSuffix("…"))
        #expect(body.unicodeScalars.count <= 3000)
        #expect(body.unicodeScalars.count > 2990)
        // Never cut inside an entity.
        #expect(!body.dropLast().hasSuffix("&") && !body.dropLast().hasSuffix("&amp"))
        #expect(message.truncations.contains { $0.contains("body") })
    }

    @Test("A very long title becomes at most 150 characters")
    func longTitle() throws {
        var input = Fixtures.input("payout_processed", recipient: Fixtures.slackUser)
        input.event.data["title"] = .string(String(repeating: "Payout ", count: 100))
        input.event.data["url"] = nil
        let message = try provider.render(input)
        let payload = try JSONValue.parse(message.body)
        try Self.checkStructure(payload)
        let header = try #require(payload["blocks"]?.arrayValue?.first)
        #expect(header["type"] == .string("header"))
        let text = try #require(header["text"]?["text"]?.stringValue)
        #expect(text.hasSuffix("…"))
        #expect(text.unicodeScalars.count <= 150)
        #expect(!message.truncations.isEmpty)
    }

    @Test("Web API request carries the token; webhook request does not")
    func requests() throws {
        let apiMessage = try provider.render(Fixtures.input("assigned", recipient: Fixtures.slackUser))
        let apiDelivery = Fixtures.delivery(
            recipient: Fixtures.slackUser,
            payload: apiMessage.body,
            contentType: apiMessage.contentType,
            channel: .slack
        )
        guard case .http(let api) = try provider.request(for: apiDelivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(api.method == "POST")
        #expect(api.url == "https://slack.test/api/chat.postMessage")
        #expect(api.body == apiMessage.body)
        #expect(header(api, "Authorization") == "Bearer \(Fixtures.slackToken)")
        #expect(header(api, "Content-Type") == "application/json; charset=utf-8")
        #expect(!api.headers.contains { $0.name.lowercased() == "user-agent" || $0.name.hasPrefix("X-Herald") })

        let hookDelivery = Fixtures.delivery(
            recipient: Fixtures.slackHook,
            payload: apiMessage.body,
            contentType: apiMessage.contentType,
            channel: .slack
        )
        guard case .http(let hook) = try provider.request(for: hookDelivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(hook.url == Fixtures.slackHookURL)
        #expect(header(hook, "Authorization") == nil)
    }

    @Test("A Web API delivery without a token is a permanent configuration error")
    func missingToken() throws {
        let tokenless = SlackProvider(notifier: Fixtures.slackNotifier, connection: SlackConnection())
        let delivery = Fixtures.delivery(
            recipient: Fixtures.slackUser,
            payload: Data("{}".utf8),
            contentType: "application/json; charset=utf-8",
            channel: .slack
        )
        let error = #expect(throws: DeliveryError.self) { try tokenless.request(for: delivery) }
        #expect(error?.disposition == .permanent)
        #expect(error?.reason == .configuration)
        #expect(error?.detail.contains("slack-bot") == true)
        // A webhook needs no token.
        let hook = Fixtures.delivery(
            recipient: Fixtures.slackHook,
            payload: Data("{}".utf8),
            contentType: "application/json; charset=utf-8",
            channel: .slack
        )
        #expect(throws: Never.self) { try tokenless.request(for: hook) }
    }

    @Test("Destinations: ids as they are, hook URLs redacted in labels")
    func destinations() {
        let user = provider.destination(for: Fixtures.slackUser)
        #expect(user == Destination(key: "U024BE7LH", label: "U024BE7LH"))
        let hook = provider.destination(for: Fixtures.slackHook)
        #expect(hook.key == Fixtures.slackHookURL)
        #expect(hook.label == "https://hooks.slack.com/…")
    }

    private func header(_ request: HTTPRequest, _ name: String) -> String? {
        request.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// SPEC §9 / providers.md §1.3: ≤ 50 blocks, section ≤ 3000, header ≤ 150, `text` always set (< 4000).
    static func checkStructure(_ payload: JSONValue) throws {
        let text = try #require(payload["text"]?.stringValue)
        #expect(!text.isEmpty)
        #expect(text.unicodeScalars.count < 4000)
        let blocks = try #require(payload["blocks"]?.arrayValue)
        #expect(!blocks.isEmpty && blocks.count <= 50)
        for block in blocks {
            switch block["type"]?.stringValue {
            case "header":
                #expect(block["text"]?["type"] == .string("plain_text"))
                let text = try #require(block["text"]?["text"]?.stringValue)
                #expect(text.unicodeScalars.count <= 150)
            case "section":
                let text = try #require(block["text"]?["text"]?.stringValue)
                #expect(!text.isEmpty && text.unicodeScalars.count <= 3000)
            case "context":
                let elements = try #require(block["elements"]?.arrayValue)
                #expect(!elements.isEmpty && elements.count <= 10)
                for element in elements {
                    #expect((element["text"]?.stringValue?.unicodeScalars.count ?? 0) <= 3000)
                }
            default:
                Issue.record("unexpected block \(block)")
            }
        }
    }
}
