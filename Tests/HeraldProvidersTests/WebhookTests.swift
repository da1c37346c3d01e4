import Crypto
import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

@Suite("Generic webhook")
struct WebhookTests {
    let provider = WebhookProvider(
        notifier: Fixtures.webhookNotifier,
        connection: WebhookConnection(signingSecret: Fixtures.signingSecret)
    )

    @Test("The payload carries the event, the recipient and a neutral rendering, never secrets")
    func payload() throws {
        var input = Fixtures.input("assigned", recipient: Fixtures.webhookRoute, reason: .route)
        input.event.recipients = [
            .address(channel: .webhook, address: "https://other.example/hook/secret", notifier: nil)
        ]
        let message = try provider.render(input)
        #expect(message.contentType == "application/json")
        let payload = try JSONValue.parse(message.body)
        #expect(payload["event"]?["id"] == .string("evt_01JDQ4ZC7R0000000000000000"))
        #expect(payload["event"]?["key"] == .string("assigned"))
        #expect(payload["event"]?["occurredAt"] == .string("2026-11-23T10:00:00.000Z"))
        #expect(payload["event"]?["issue"]?["shortId"] == .string("BACKEND-1A"))
        #expect(payload["event"]?["data"]?["assignee"]?["name"] == .string("Ann Lee"))
        #expect(payload["event"]?["recipients"] == nil)
        #expect(payload["recipient"]?["kind"] == .string("route"))
        #expect(payload["recipient"]?["id"] == .string("route-9"))
        #expect(payload["recipient"]?["address"] == nil)
        #expect(payload["rendered"]?["title"] == .string("BACKEND-1A - TypeError: x is undefined"))
        #expect(payload["rendered"]?["url"] == .string("https://tracker.example/acme/issues/9001/"))
        let text = try #require(payload["rendered"]?["text"]?.stringValue)
        #expect(text.hasPrefix("Jane Doe assigned BACKEND-1A to Ann Lee"))
        let body = String(decoding: message.body, as: UTF8.self)
        #expect(!body.contains("secret"))
        #expect(!body.contains(Fixtures.signingSecret))
    }

    @Test("Custom keys render from data.title, data.text and data.url")
    func customKey() throws {
        let message = try provider.render(Fixtures.input("payout_processed", recipient: Fixtures.webhookRoute))
        let rendered = try #require(try JSONValue.parse(message.body)["rendered"])
        #expect(rendered["title"] == .string("Payout of $1,250.00 processed"))
        #expect(rendered["url"] == .string("https://market.example/payouts/po_8812"))
        #expect(rendered["text"]?.stringValue?.hasPrefix("Your payout") == true)

        let bare = try provider.render(Fixtures.input("new_message_creator", recipient: Fixtures.webhookRoute))
        let bareRendered = try #require(try JSONValue.parse(bare.body)["rendered"])
        #expect(bareRendered["title"] == .string("A creator sent you a message"))
        #expect(bareRendered["url"] == nil)
    }

    @Test("Signed requests verify with HMAC-SHA256 over the body")
    func signature() throws {
        let message = try provider.render(Fixtures.input("deploy", recipient: Fixtures.webhookRoute))
        let delivery = Fixtures.delivery(
            recipient: Fixtures.webhookRoute,
            payload: message.body,
            contentType: message.contentType,
            channel: .webhook
        )
        guard case .http(let request) = try provider.request(for: delivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(request.method == "POST")
        #expect(request.url == Fixtures.webhookURL)
        #expect(request.body == message.body)
        #expect(request.headers.contains(HTTPHeader("Content-Type", "application/json")))
        let header = try #require(request.headers.first { $0.name == "X-Herald-Signature" }?.value)
        #expect(header.hasPrefix("sha256="))

        let key = SymmetricKey(data: Data(Fixtures.signingSecret.utf8))
        let expected = HMAC<SHA256>.authenticationCode(for: message.body, using: key)
        let hex = expected.map { String(format: "%02x", $0) }.joined()
        #expect(header == "sha256=" + hex)
        #expect(WebhookSignature.isValid(header, body: message.body, secret: Fixtures.signingSecret))
        #expect(!WebhookSignature.isValid(header, body: message.body + Data(" ".utf8), secret: Fixtures.signingSecret))
        #expect(!WebhookSignature.isValid(header, body: message.body, secret: "other-secret"))
        #expect(!WebhookSignature.isValid("sha256=zz", body: message.body, secret: Fixtures.signingSecret))
    }

    @Test("Without a secret requests are unsigned")
    func unsigned() throws {
        let unsigned = WebhookProvider(notifier: Fixtures.webhookNotifier, connection: WebhookConnection())
        let delivery = Fixtures.delivery(
            recipient: Fixtures.webhookRoute,
            payload: Data("{}".utf8),
            contentType: "application/json",
            channel: .webhook
        )
        guard case .http(let request) = try unsigned.request(for: delivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(!request.headers.contains { $0.name == "X-Herald-Signature" })
    }

    @Test("Destination: the URL, labelled without its path")
    func destination() {
        let destination = provider.destination(for: Fixtures.webhookRoute)
        #expect(destination.key == Fixtures.webhookURL)
        #expect(destination.label == "https://hooks.example.com/…")
    }

    static let rows: [ResponseRow] = [
        ResponseRow(200, "", .delivered(receipt: nil)),
        ResponseRow(201, #"{"id":1}"#, .delivered(receipt: nil)),
        ResponseRow(202, "accepted", .delivered(receipt: nil)),
        ResponseRow(204, "", .delivered(receipt: nil)),
        ResponseRow(301, "", .permanent(.configuration)),
        ResponseRow(302, "", .permanent(.configuration)),
        ResponseRow(307, "", .permanent(.configuration)),
        ResponseRow(400, "bad request", .permanent(.clientError)),
        ResponseRow(401, "", .permanent(.configuration)),
        ResponseRow(403, "", .permanent(.configuration)),
        ResponseRow(404, "", .permanent(.configuration)),
        ResponseRow(405, "", .permanent(.clientError)),
        ResponseRow(408, "", .retry(.timeout)),
        ResponseRow(410, "", .permanent(.configuration)),
        ResponseRow(413, "", .permanent(.clientError)),
        ResponseRow(422, "", .permanent(.clientError)),
        ResponseRow(429, "", .retry(.rateLimited)),
        ResponseRow(500, "", .retry(.serverError, ambiguous: true)),
        ResponseRow(502, "", .retry(.serverError, ambiguous: true)),
        ResponseRow(503, "", .retry(.serverError, ambiguous: true)),
        ResponseRow(504, "", .retry(.serverError, ambiguous: true)),
        ResponseRow(101, "", .permanent(.clientError)),
        ResponseRow(600, "", .permanent(.clientError)),
    ]

    @Test("Status classification", arguments: rows)
    func classification(row: ResponseRow) {
        row.expected.verify(provider.classify(.http(.response(row.response)), now: Fixtures.now), status: row.status)
    }

    @Test("Retry-After is honoured on 429 and 503", arguments: [429, 503])
    func retryAfter(status: Int) {
        for (value, expected) in [
            ("45", Fixtures.now.addingTimeInterval(45)),
            ("Mon, 23 Nov 2026 10:01:05 GMT", Fixtures.now.addingTimeInterval(60)),
        ] {
            let response = HTTPResponse(status: status, retryAfter: value)
            guard case .failed(let error) = provider.classify(.http(.response(response)), now: Fixtures.now) else {
                Issue.record("delivered")
                return
            }
            #expect(error.notBefore == expected)
        }
    }

    @Test("Transport failures use the shared classification")
    func transport() {
        let failure = TransportFailure(kind: .connect, code: 7, requestSent: false, message: "Connection refused")
        Expectation.retry(.connection).verify(
            provider.classify(.http(.failure(failure)), now: Fixtures.now),
            status: nil
        )
    }
}
