import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

@testable import HeraldProviders

/// The Adaptive Card inside a rendered Workflows message.
private func teamsCard(_ message: RenderedMessage) throws -> JSONValue {
    try #require(try JSONValue.parse(message.body)["attachments"]?.arrayValue?.first?["content"])
}

@Suite("Microsoft Teams rendering")
struct MSTeamsRenderingTests {
    let provider = MSTeamsProvider(notifier: Fixtures.teamsNotifier, connection: MSTeamsConnection())

    @Test("Golden renderings", arguments: Fixtures.goldenKeys)
    func golden(key: String) throws {
        let message = try provider.render(Fixtures.input(key, recipient: Fixtures.teamsRoute, reason: .route))
        #expect(message.contentType == "application/json")
        #expect(message.truncations.isEmpty)
        #expect(try JSONValue.parse(message.body).canonicalData() == message.body)
        try GoldenFiles.check(try GoldenFiles.goldenForm(ofJSON: message.body), name: "msteams/\(key).json")
    }

    @Test("The Workflows envelope carries one Adaptive Card 1.4", arguments: Fixtures.goldenKeys)
    func envelope(key: String) throws {
        let message = try provider.render(Fixtures.input(key, recipient: Fixtures.teamsRoute, reason: .route))
        let payload = try JSONValue.parse(message.body)
        #expect(payload["type"] == .string("message"))
        let attachments = try #require(payload["attachments"]?.arrayValue)
        #expect(attachments.count == 1)
        let attachment = try #require(attachments.first)
        #expect(attachment["contentType"] == .string("application/vnd.microsoft.card.adaptive"))
        #expect(attachment["contentUrl"] == .null)
        let card = try #require(attachment["content"])
        #expect(card["type"] == .string("AdaptiveCard"))
        #expect(card["version"] == .string("1.4"))
        #expect(card["$schema"] == .string("http://adaptivecards.io/schemas/adaptive-card.json"))
        #expect(card["msteams"]?["width"] == .string("Full"))
        let body = try #require(card["body"]?.arrayValue)
        let title = try #require(body.first)
        #expect(title["type"] == .string("TextBlock"))
        #expect(title["weight"] == .string("Bolder"))
        #expect(title["size"] == .string("Medium"))
        for element in body {
            #expect(["TextBlock", "FactSet"].contains(element["type"]?.stringValue ?? ""))
            if element["type"] == .string("TextBlock") { #expect(element["wrap"] == .bool(true)) }
        }
        for action in card["actions"]?.arrayValue ?? [] {
            #expect(action["type"] == .string("Action.OpenUrl"))
        }
        let urls = card["actions"]?.arrayValue?.compactMap { $0["url"]?.stringValue } ?? []
        let critical = Fixtures.catalog.entry(for: key)?.critical == true
        #expect(urls.contains("https://tracker.example/settings/notifications/\(key)") != critical)
        #expect(message.body.count <= 20_000)
    }

    @Test("Issue link, settings link, facts and the reason")
    func content() throws {
        let message = try provider.render(Fixtures.input("assigned", recipient: Fixtures.teamsRoute))
        let card = try teamsCard(message)
        let texts = card["body"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
        #expect(texts.first == "BACKEND-1A - TypeError: x is undefined")
        #expect(texts.contains("Jane Doe assigned BACKEND-1A to Ann Lee"))
        #expect(texts.contains("Backend · production"))
        #expect(texts.contains { $0.hasPrefix("You are receiving this because you were assigned") })
        let facts = card["body"]?.arrayValue?.first { $0["type"] == .string("FactSet") }?["facts"]?.arrayValue
        #expect(facts?.first?["title"] == .string("Assignee"))
        #expect(facts?.first?["value"] == .string("Ann Lee"))
        let actions = try #require(card["actions"]?.arrayValue)
        #expect(actions.first?["title"] == .string("Open issue"))
        #expect(actions.first?["url"] == .string("https://tracker.example/acme/issues/9001/"))
        #expect(actions.last?["title"] == .string("Notification settings"))
    }

    @Test("Markdown in data is neutralised; Herald's own links stay links")
    func markdown() throws {
        var input = Fixtures.input("resolved_in_commit", recipient: Fixtures.teamsRoute)
        input.event.issue?.title = "*bold* _it_ [click](https://evil.example)"
        let message = try provider.render(input)
        let card = try teamsCard(message)
        let title = try #require(card["body"]?.arrayValue?.first?["text"]?.stringValue)
        #expect(!title.contains("*"))
        #expect(!title.contains("_"))
        #expect(!title.contains("["))
        #expect(title.contains("click"))
        let facts = card["body"]?.arrayValue?.first { $0["type"] == .string("FactSet") }?["facts"]?.arrayValue
        let commit = try #require(facts?.first { $0["title"] == .string("Commit") })
        #expect(
            commit["value"]
                == .string(
                    "[3f2a9c81d4e5](https://git.example/acme/backend/commit/3f2a9c81d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9)"
                )
        )
    }

    @Test("A custom key's Teams template becomes the card text; a failing one falls back and warns")
    func template() throws {
        let library = try TemplateLibrary(
            templates: ["payout_processed/msteams": "Payout **{{data.amount}}** sent to {{recipient.name}}"],
            maximumOutputBytes: 64
        )
        let provider = MSTeamsProvider(
            notifier: Fixtures.teamsNotifier,
            connection: MSTeamsConnection(),
            templates: library
        )
        var input = Fixtures.input("payout_processed", recipient: Fixtures.teamsRoute)
        input.recipient.name = "Finance"
        let message = try provider.render(input)
        #expect(message.truncations.isEmpty)
        let texts = try teamsCard(message)["body"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
        #expect(texts.contains("Payout ∗∗1250∗∗ sent to Finance"))

        input.recipient.name = String(repeating: "x", count: 100)
        let fallback = try provider.render(input)
        #expect(fallback.truncations.count == 1)
        #expect(fallback.truncations.first?.hasPrefix(TemplateOutcome.warningPrefix) == true)
    }

    @Test("A huge comment is cut to fit 20 KB")
    func hugeComment() throws {
        var input = Fixtures.input("note", recipient: Fixtures.teamsRoute)
        input.event.data["text"] = .string(String(repeating: "A very long comment. ", count: 10_000))
        let message = try provider.render(input)
        #expect(message.body.count <= 20_000)
        #expect(message.truncations.contains("msteams body cut to 8000 bytes"))
        let card = try teamsCard(message)
        let texts = card["body"]?.arrayValue?.compactMap { $0["text"]?.stringValue } ?? []
        #expect(texts.contains { $0.hasPrefix("A very long comment.") && $0.hasSuffix("…") })
        #expect(texts.contains { $0.hasPrefix("You are receiving this because") })
    }

    @Test("When escaping makes the card too large, trailing items give way to a notice")
    func trailingItemsDropped() throws {
        var input = Fixtures.input("note", recipient: Fixtures.teamsRoute)
        // Quotes and backslashes double in JSON, so the capped texts still overflow the budget.
        input.event.issue?.title = String(repeating: "\"\\", count: 2_000)
        input.event.data["text"] = .string(String(repeating: "\"\\\u{1}", count: 10_000))
        let message = try provider.render(input)
        #expect(message.body.count <= 20_000)
        #expect(message.truncations.contains { $0.hasPrefix("msteams card:") && $0.contains("left out") })
        let card = try teamsCard(message)
        let body = try #require(card["body"]?.arrayValue)
        #expect(body.first?["weight"] == .string("Bolder"))
        #expect(body.last?["text"] == .string(MSTeamsRenderer.omissionNotice))
        #expect(card["actions"]?.arrayValue?.count == 2)
    }

    @Test("Destination: the Workflows URL, labelled without path or signature")
    func destination() {
        let destination = provider.destination(for: Fixtures.teamsRoute)
        #expect(destination.key == Fixtures.teamsURL)
        #expect(destination.label == "https://prod-42.westeurope.logic.azure.com:443/…")
    }

    @Test("Requests POST the card to the Workflows URL")
    func request() throws {
        let message = try provider.render(Fixtures.input("escalating", recipient: Fixtures.teamsRoute))
        let delivery = Fixtures.storedDelivery(of: message, to: Fixtures.teamsRoute, notifier: Fixtures.teamsNotifier)
        guard case .http(let request) = try provider.request(for: delivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(request.method == "POST")
        #expect(request.url == Fixtures.teamsURL)
        #expect(request.body == message.body)
        #expect(request.headers.contains(HTTPHeader("Content-Type", "application/json")))
    }

    @Test(
        "Legacy connector URLs are recognised",
        arguments: [
            (Fixtures.teamsLegacyURL, true),
            ("https://outlook.office.com/webhook/abc@def/IncomingWebhook/123/456", true),
            ("https://OUTLOOK.OFFICE365.COM/webhookb2/abc", true),
            ("https://webhook.office.com/webhookb2/x", true),
            ("https://outlook.office.com/owa/", false),
            (Fixtures.teamsURL, false),
            ("https://acme.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/1", false),
            ("https://webhook.office.com.evil.example/webhookb2/x", false),
        ]
    )
    func legacyDetection(url: String, legacy: Bool) {
        #expect(MSTeamsProvider.isLegacyConnector(url) == legacy)
    }

    @Test("Legacy connectors are refused unless allowed, without leaking the URL")
    func legacyRefused() throws {
        let legacy = Recipient(kind: .route, id: "route-old", address: Fixtures.teamsLegacyURL)
        let message = try provider.render(Fixtures.input("assigned", recipient: legacy))
        let delivery = Fixtures.storedDelivery(of: message, to: legacy, notifier: Fixtures.teamsNotifier)
        do {
            _ = try provider.request(for: delivery)
            Issue.record("a legacy connector URL was accepted")
        } catch {
            #expect(error.disposition == .permanent)
            #expect(error.reason == .configuration)
            #expect(error.detail.contains("retired Office 365 connector"))
            #expect(!error.detail.contains("webhookb2"))
            #expect(!error.detail.contains("c0ffee0123456789"))
        }
        let allowing = MSTeamsProvider(
            notifier: Fixtures.teamsNotifier,
            connection: MSTeamsConnection(allowLegacyConnectors: true)
        )
        guard case .http(let request) = try allowing.request(for: delivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(request.url == Fixtures.teamsLegacyURL)
    }
}

@Suite("Microsoft Teams classification")
struct MSTeamsClassificationTests {
    let provider = MSTeamsProvider(notifier: Fixtures.teamsNotifier, connection: MSTeamsConnection())

    /// providers.md §3.3 and the Teams rows of §8.
    static let rows: [ResponseRow] = [
        // Workflows.
        ResponseRow(202, "", .delivered(receipt: nil)),
        ResponseRow(400, #"{"error":{"code":"InvalidRequestContent"}}"#, .permanent(.invalidPayload)),
        ResponseRow(401, #"{"error":{"code":"DirectApiAuthorizationRequired"}}"#, .permanent(.authentication)),
        ResponseRow(403, "", .permanent(.authentication)),
        ResponseRow(404, #"{"error":{"code":"WorkflowNotFound"}}"#, .permanent(.configuration)),
        ResponseRow(413, "Request Entity too large", .permanent(.invalidPayload)),
        ResponseRow(408, "", .retry(.timeout)),
        ResponseRow(429, #"{"error":{"code":"WorkflowTriggerIsThrottled"}}"#, .retry(.rateLimited)),
        ResponseRow(500, "", .retry(.serverError, ambiguous: true)),
        ResponseRow(502, "Bad Gateway", .retry(.serverError, ambiguous: true)),
        ResponseRow(503, "", .retry(.serverError, ambiguous: true)),
        ResponseRow(504, "", .retry(.serverError, ambiguous: true)),
        // Legacy connectors.
        ResponseRow(200, "1", .delivered(receipt: nil)),
        ResponseRow(200, "1\n", .delivered(receipt: nil)),
        ResponseRow(
            200,
            "Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0,server=msgapi,cv=abc",
            .retry(.rateLimited)
        ),
        ResponseRow(200, "", .permanent(.invalidPayload)),
        ResponseRow(200, "Summary or Text is required.", .permanent(.invalidPayload)),
        ResponseRow(400, "Summary or Text is required.", .permanent(.invalidPayload)),
        ResponseRow(410, "Connector removed", .permanent(.configuration)),
        // Anything else: permanent, never looped on.
        ResponseRow(201, "", .permanent(.clientError)),
        ResponseRow(204, "", .permanent(.clientError)),
        ResponseRow(301, "", .permanent(.configuration)),
        ResponseRow(418, "", .permanent(.clientError)),
        ResponseRow(100, "", .permanent(.clientError)),
    ]

    @Test("Status and body classification", arguments: rows)
    func classification(row: ResponseRow) {
        row.expected.verify(provider.classify(.http(.response(row.response)), now: Fixtures.now), status: row.status)
    }

    @Test("Retry-After is honoured on 429 and 503", arguments: [429, 503])
    func retryAfter(status: Int) throws {
        let response = HTTPResponse(status: status, retryAfter: "30")
        let error = try #require(provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure)
        #expect(error.notBefore == Fixtures.now.addingTimeInterval(30))
    }

    @Test(
        "Transport failures use the shared classification",
        arguments: [
            (TransportFailure.Kind.connect, Expectation.retry(.connection)),
            (.timeout, .retry(.timeout, ambiguous: true)),
            (.tlsConfiguration, .permanent(.configuration)),
        ]
    )
    func transport(kind: TransportFailure.Kind, expected: Expectation) {
        let failure = TransportFailure(kind: kind, code: 7, requestSent: true, message: "failed")
        expected.verify(provider.classify(.http(.failure(failure)), now: Fixtures.now), status: nil)
    }

    static let echoingBodies = [
        "Cannot POST \(Fixtures.teamsURL)",
        "invalid signature sig=\(Fixtures.teamsSignature)",
        #"{"error":{"message":"The provided signature '\#(Fixtures.teamsSignature)' is not valid for /workflows/3c9d2f0e8a7b4c1d9e6f"}}"#,
        "bad query sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig%3D\(Fixtures.teamsSignature)&x=1",
        "<a href='\(Fixtures.teamsURL)'>moved</a>",
    ]

    @Test(
        "Error details never carry the Workflows URL or its signature",
        arguments: echoingBodies,
        [200, 400, 401, 404, 429, 500]
    )
    func noLeaks(body: String, status: Int) {
        let response = HTTPResponse(status: status, body: Data(body.utf8))
        guard let error = provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure else {
            return
        }
        for secret in [Fixtures.teamsSignature, "3c9d2f0e8a7b4c1d9e6f", "/workflows/"] {
            #expect(!error.detail.contains(secret), "detail leaks \(secret): \(error.detail)")
            #expect(!error.summary.contains(secret))
        }
        #expect(error.detail.count <= 200)
    }

    @Test("Transport failure messages naming the URL are redacted")
    func transportLeak() throws {
        let failure = TransportFailure(
            kind: .timeout,
            code: 28,
            requestSent: true,
            message: "timed out posting to \(Fixtures.teamsURL) (sig=\(Fixtures.teamsSignature))"
        )
        let error = try #require(provider.classify(.http(.failure(failure)), now: Fixtures.now).classifiedFailure)
        #expect(!error.detail.contains(Fixtures.teamsSignature))
        #expect(!error.detail.contains("/workflows/"))
    }
}

@Suite("Microsoft Teams over real sockets")
struct MSTeamsSocketTests {
    func delivery(to server: FakeVendorServer) throws -> (MSTeamsProvider, Delivery) {
        let provider = MSTeamsProvider(notifier: Fixtures.teamsNotifier, connection: MSTeamsConnection())
        let target = Recipient(
            kind: .route,
            id: "route-4",
            address: server.baseURL + "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s3cr3t"
        )
        let message = try provider.render(Fixtures.input("issue_alert", recipient: target))
        return (provider, Fixtures.storedDelivery(of: message, to: target, notifier: Fixtures.teamsNotifier))
    }

    @Test("202 is delivered; the card arrives intact")
    func success() async throws {
        let server = try await FakeVendorServer.start(script: [.status(202)])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try delivery(to: server)

        let outcome = try await SocketDelivery(provider: provider, transport: transport).attempt(delivery)

        #expect(outcome == .delivered(receipt: nil))
        let received = try #require(server.requests().first)
        #expect(received.method == "POST")
        #expect(received.path == "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=s3cr3t")
        #expect(received.header("Content-Type") == "application/json")
        #expect(try JSONValue.parse(received.body) == JSONValue.parse(delivery.payload))
        try await server.shutdown()
    }

    @Test("A throttled attempt retries after Retry-After, then succeeds")
    func retryThenSuccess() async throws {
        let server = try await FakeVendorServer.start(script: [.status(429, retryAfter: "2"), .status(202)])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try delivery(to: server)
        let sender = SocketDelivery(provider: provider, transport: transport)

        let first = try await sender.attempt(delivery)
        let error = try #require(first.classifiedFailure)
        #expect(error.isRetryable)
        #expect(error.reason == .rateLimited)
        #expect(error.notBefore == Fixtures.now.addingTimeInterval(2))
        #expect(try await sender.attempt(delivery) == .delivered(receipt: nil))
        #expect(server.requestCount == 2)
        try await server.shutdown()
    }

    @Test("A deleted flow (404) fails permanently")
    func permanentFailure() async throws {
        let server = try await FakeVendorServer.start(script: [.json(404, #"{"error":{"code":"WorkflowNotFound"}}"#)])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try delivery(to: server)

        let error = try #require(
            try await SocketDelivery(provider: provider, transport: transport).attempt(delivery).classifiedFailure
        )
        #expect(error.disposition == .permanent)
        #expect(error.reason == .configuration)
        #expect(error.status == 404)
        #expect(!error.detail.contains("s3cr3t"))
        try await server.shutdown()
    }
}
