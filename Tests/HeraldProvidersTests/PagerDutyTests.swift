import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

@testable import HeraldProviders

@Suite("PagerDuty rendering")
struct PagerDutyRenderingTests {
    let provider = PagerDutyProvider(notifier: Fixtures.pagerDutyNotifier, connection: PagerDutyConnection())

    func render(_ key: String) throws -> JSONValue {
        let message = try provider.render(Fixtures.input(key, recipient: Fixtures.pagerDutyRoute, reason: .route))
        #expect(message.contentType == "application/json")
        return try JSONValue.parse(message.body)
    }

    @Test("Golden renderings of the paging keys and every resolve", arguments: Fixtures.pagerDutyKeys)
    func golden(key: String) throws {
        let message = try provider.render(Fixtures.input(key, recipient: Fixtures.pagerDutyRoute, reason: .route))
        #expect(message.truncations.isEmpty)
        #expect(try JSONValue.parse(message.body).canonicalData() == message.body)
        try GoldenFiles.check(try GoldenFiles.goldenForm(ofJSON: message.body), name: "pagerduty/\(key).json")
    }

    @Test("The paging keys are exactly those of SPEC §7")
    func pagingKeys() {
        #expect(
            Set(Fixtures.pagerDutyKeys) == [
                "escalating", "regression", "issue_alert", "resolved", "resolved_in_release", "resolved_in_commit",
                "resolved_in_pull_request", "resolved_by_age",
            ]
        )
        for key in Fixtures.goldenKeys {
            let expected: PagerDutyProvider.EventAction? =
                ["escalating", "regression", "issue_alert"].contains(key)
                ? .trigger : key.hasPrefix("resolved") ? .resolve : nil
            #expect(PagerDutyProvider.action(for: key) == expected, "\(key)")
        }
    }

    @Test("Keys that do not page refuse to render", arguments: Fixtures.goldenKeys.filter { !PagerDutyKeys.pages($0) })
    func nonPaging(key: String) {
        #expect(throws: PagerDutyRenderError.keyDoesNotPage(key)) {
            try provider.render(Fixtures.input(key, recipient: Fixtures.pagerDutyRoute, reason: .route))
        }
    }

    @Test("A target that is not a routing key refuses to render, without repeating it")
    func invalidRoutingKey() {
        let route = Recipient(kind: .route, id: "route-x", address: "not-a-key-but-maybe-secret")
        do {
            _ = try provider.render(Fixtures.input("escalating", recipient: route, reason: .route))
            Issue.record("rendered")
        } catch {
            #expect(error is PagerDutyRenderError)
            #expect(!String(describing: error).contains("not-a-key-but-maybe-secret"))
        }
    }

    @Test("Triggers carry the alert; severity follows the issue level")
    func trigger() throws {
        let event = try render("escalating")
        #expect(event["routing_key"] == .string(Fixtures.routingKey))
        #expect(event["event_action"] == .string("trigger"))
        #expect(event["dedup_key"] == .string("acme/BACKEND-1A"))
        #expect(event["client"] == .string("Herald"))
        #expect(event["client_url"] == .string("https://tracker.example/acme/issues/9001/"))
        let payload = try #require(event["payload"])
        #expect(
            payload["summary"]
                == .string("BACKEND-1A is escalating: more events than its forecast of 120 — TypeError: x is undefined")
        )
        #expect(payload["source"] == .string("app/models.py in save"))
        #expect(payload["severity"] == .string("error"))
        #expect(payload["component"] == .string("Backend"))
        #expect(payload["group"] == .string("production"))
        #expect(payload["class"] == .string("escalating"))
        #expect(payload["timestamp"] == .string("2026-11-23T10:00:00.000Z"))
        #expect(payload["custom_details"]?["Forecast"] == .string("120"))
        #expect(payload["custom_details"]?["Data"]?["forecast"] == .number(120))
        let links = try #require(event["links"]?.arrayValue)
        #expect(links.first?["href"] == .string("https://tracker.example/acme/issues/9001/"))
        #expect(links.last?["href"] == .string("https://tracker.example/settings/notifications/escalating"))
    }

    @Test(
        "Severity mapping",
        arguments: [
            ("fatal", "critical"), ("error", "error"), ("warning", "warning"), ("info", "info"), ("debug", "info"),
            ("", "info"), ("FATAL", "critical"),
        ]
    )
    func severity(level: String, expected: String) throws {
        var input = Fixtures.input("issue_alert", recipient: Fixtures.pagerDutyRoute, reason: .route)
        input.event.issue?.level = level
        let event = try JSONValue.parse(try provider.render(input).body)
        #expect(event["payload"]?["severity"] == .string(expected))
    }

    @Test("Resolves carry only routing_key, event_action and dedup_key")
    func resolve() throws {
        for key in Fixtures.pagerDutyKeys where key.hasPrefix("resolved") {
            let event = try render(key)
            #expect(event.objectValue?.keys.sorted() == ["dedup_key", "event_action", "routing_key"])
            #expect(event["event_action"] == .string("resolve"))
        }
    }

    @Test("A resolve closes what the trigger opened: the same dedup_key")
    func dedupKeyMatches() throws {
        let trigger = try render("escalating")
        let resolve = try render("resolved")
        #expect(trigger["dedup_key"] == resolve["dedup_key"])
        #expect(PagerDutyProvider.dedupKey(for: Fixtures.event("regression")) == "acme/BACKEND-1A")
        var other = Fixtures.event("resolved_in_release")
        other.issue?.shortId = "BACKEND-1B"
        #expect(PagerDutyProvider.dedupKey(for: other) == "acme/BACKEND-1B")
    }

    @Test("dedup_key falls back to the issue id, and stays within 255 bytes and unique")
    func dedupKeyFallbacks() {
        var event = Fixtures.event("escalating")
        event.issue?.shortId = nil
        #expect(PagerDutyProvider.dedupKey(for: event) == "acme/9001")
        event.issue = nil
        #expect(PagerDutyProvider.dedupKey(for: event) == "acme/event/evt_01JDQ4ZC7R0000000000000000")
        var long = Fixtures.event("escalating")
        long.organization = String(repeating: "ö", count: 200)
        let key = PagerDutyProvider.dedupKey(for: long)
        #expect(key.utf8.count <= 255)
        #expect(key == PagerDutyProvider.dedupKey(for: long))
        long.issue?.shortId = "BACKEND-1B"
        #expect(PagerDutyProvider.dedupKey(for: long) != key)
    }

    @Test("The summary is cut to 1024 characters")
    func longSummary() throws {
        var input = Fixtures.input("regression", recipient: Fixtures.pagerDutyRoute, reason: .route)
        input.event.issue?.title = String(repeating: "ä", count: 5000)
        let message = try provider.render(input)
        let summary = try #require(try JSONValue.parse(message.body)["payload"]?["summary"]?.stringValue)
        #expect(summary.unicodeScalars.count == 1024)
        #expect(summary.hasSuffix("…"))
        #expect(message.truncations.contains("pagerduty summary cut to 1024 characters"))
    }

    @Test("An event over 512 KB drops custom_details first")
    func hugeData() throws {
        var input = Fixtures.input("issue_alert", recipient: Fixtures.pagerDutyRoute, reason: .route)
        input.event.data["stack"] = .string(String(repeating: "frame at app/models.py:42\n", count: 30_000))
        let message = try provider.render(input)
        #expect(message.body.count <= 512 * 1024)
        #expect(message.truncations == ["pagerduty custom_details left out to fit 524288 bytes"])
        let event = try JSONValue.parse(message.body)
        #expect(event["payload"]?["custom_details"] == .object(["note": .string(PagerDutyRenderer.oversizeNote)]))
        #expect(
            event["payload"]?["summary"]
                == .string("Alert rule “High error rate” fired for BACKEND-1A — TypeError: x is undefined")
        )
        #expect(event["links"]?.arrayValue?.isEmpty == false)
    }

    @Test("Destination: the routing key, labelled by its first four characters")
    func destination() {
        let destination = provider.destination(for: Fixtures.pagerDutyRoute)
        #expect(destination.key == Fixtures.routingKey)
        #expect(destination.label == "R7f3…")
    }

    @Test("Requests POST JSON to the events URL without an auth header")
    func request() throws {
        let message = try provider.render(Fixtures.input("escalating", recipient: Fixtures.pagerDutyRoute))
        let delivery = Fixtures.storedDelivery(
            of: message,
            to: Fixtures.pagerDutyRoute,
            notifier: Fixtures.pagerDutyNotifier
        )
        guard case .http(let request) = try provider.request(for: delivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(request.url == "https://events.pagerduty.com/v2/enqueue")
        #expect(request.method == "POST")
        #expect(request.headers == [HTTPHeader("Content-Type", "application/json")])
        #expect(request.body == message.body)
    }
}

@Suite("PagerDuty classification")
struct PagerDutyClassificationTests {
    let provider = PagerDutyProvider(notifier: Fixtures.pagerDutyNotifier, connection: PagerDutyConnection())

    static let invalid =
        #"{"status":"invalid event","message":"Event object is invalid","errors":["'payload.severity' is invalid (must be one of: critical, error, warning, info)"]}"#

    /// providers.md §2 and the PagerDuty rows of §8.
    static let rows: [ResponseRow] = [
        ResponseRow(
            202,
            #"{"status":"success","message":"Event processed","dedup_key":"acme/BACKEND-1A"}"#,
            .delivered(receipt: "acme/BACKEND-1A")
        ),
        ResponseRow(202, "", .delivered(receipt: nil)),
        ResponseRow(200, #"{"status":"success","dedup_key":"k"}"#, .delivered(receipt: "k")),
        ResponseRow(200, "", .permanent(.clientError)),
        ResponseRow(400, invalid, .permanent(.invalidPayload)),
        ResponseRow(400, "", .permanent(.invalidPayload)),
        ResponseRow(413, "Request Entity Too Large", .permanent(.invalidPayload)),
        ResponseRow(401, "", .permanent(.authentication)),
        ResponseRow(403, "", .permanent(.authentication)),
        ResponseRow(404, "", .permanent(.configuration)),
        ResponseRow(405, "", .permanent(.clientError)),
        ResponseRow(422, "", .permanent(.clientError)),
        ResponseRow(
            429,
            #"{"status":"throttle event","message":"Requests for this service are arriving too quickly."}"#,
            .retry(.rateLimited)
        ),
        ResponseRow(429, "", .retry(.rateLimited)),
        ResponseRow(500, "", .retry(.serverError)),
        ResponseRow(502, "<html>Bad Gateway</html>", .retry(.serverError)),
        ResponseRow(503, "", .retry(.serverError)),
        ResponseRow(504, "", .retry(.serverError)),
        ResponseRow(301, "", .permanent(.configuration)),
        ResponseRow(100, "", .permanent(.clientError)),
    ]

    @Test("Status and body classification", arguments: rows)
    func classification(row: ResponseRow) {
        row.expected.verify(provider.classify(.http(.response(row.response)), now: Fixtures.now), status: row.status)
    }

    @Test(
        "429 waits at least a minute, longer when Retry-After says so",
        arguments: [(String?.none, 60.0), ("2", 60), ("59", 60), ("300", 300), ("Mon, 23 Nov 2026 10:10:05 GMT", 600)]
    )
    func rateLimitFloor(retryAfter: String?, seconds: Double) throws {
        let response = HTTPResponse(status: 429, retryAfter: retryAfter)
        let error = try #require(provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure)
        #expect(error.notBefore == Fixtures.now.addingTimeInterval(seconds))
    }

    @Test("A 400 names PagerDuty's errors")
    func invalidEventDetail() throws {
        let response = HTTPResponse(status: 400, body: Data(Self.invalid.utf8))
        let error = try #require(provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure)
        #expect(error.detail.hasPrefix("pagerduty HTTP 400: invalid event: Event object is invalid; errors: "))
        #expect(error.detail.contains("'payload.severity' is invalid"))
    }

    @Test("Error details never carry the routing key", arguments: [400, 404, 429, 500])
    func noLeaks(status: Int) {
        let bodies = [
            #"{"status":"invalid event","message":"Event object is invalid","errors":["routing_key \#(Fixtures.routingKey) is unknown"]}"#,
            "unknown integration \(Fixtures.routingKey)",
            #"{"routing_key":"\#(Fixtures.routingKey)"}"#,
        ]
        for body in bodies {
            let response = HTTPResponse(status: status, body: Data(body.utf8))
            guard let error = provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure
            else { continue }
            #expect(!error.detail.contains(Fixtures.routingKey), "\(error.detail)")
            #expect(!error.detail.contains("7f3c9a1e5b2d"))
        }
        let failure = TransportFailure(
            kind: .timeout,
            code: 28,
            requestSent: true,
            message: "timed out sending key \(Fixtures.routingKey)"
        )
        let error = provider.classify(.http(.failure(failure)), now: Fixtures.now).classifiedFailure
        #expect(error?.detail.contains(Fixtures.routingKey) == false)
        #expect(error?.isRetryable == true)
    }

    @Test("Render errors never carry the routing key")
    func renderErrorLeak() {
        do {
            _ = try PagerDutyProvider(notifier: Fixtures.pagerDutyNotifier, connection: PagerDutyConnection())
                .render(Fixtures.input("assigned", recipient: Fixtures.pagerDutyRoute, reason: .route))
        } catch {
            #expect(!String(describing: error).contains(Fixtures.routingKey))
        }
    }
}

@Suite("PagerDuty over real sockets")
struct PagerDutySocketTests {
    func setUp(_ server: FakeVendorServer, key: String = "escalating") throws -> (PagerDutyProvider, Delivery) {
        let provider = PagerDutyProvider(
            notifier: Fixtures.pagerDutyNotifier,
            connection: PagerDutyConnection(eventsURL: server.baseURL + "/v2/enqueue")
        )
        let message = try provider.render(Fixtures.input(key, recipient: Fixtures.pagerDutyRoute, reason: .route))
        let delivery = Fixtures.storedDelivery(
            of: message,
            to: Fixtures.pagerDutyRoute,
            notifier: Fixtures.pagerDutyNotifier
        )
        return (provider, delivery)
    }

    static let accepted = #"{"status":"success","message":"Event processed","dedup_key":"acme/BACKEND-1A"}"#

    @Test("202 is delivered with PagerDuty's dedup_key as the receipt")
    func success() async throws {
        let server = try await FakeVendorServer.start(script: [.json(202, Self.accepted)])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try setUp(server)

        let outcome = try await SocketDelivery(provider: provider, transport: transport).attempt(delivery)

        #expect(outcome == .delivered(receipt: "acme/BACKEND-1A"))
        let received = try #require(server.requests().first)
        #expect(received.path == "/v2/enqueue")
        #expect(received.header("Content-Type") == "application/json")
        #expect(received.header("Authorization") == nil)
        let event = try JSONValue.parse(received.body)
        #expect(event["routing_key"] == .string(Fixtures.routingKey))
        #expect(event["event_action"] == .string("trigger"))
        try await server.shutdown()
    }

    @Test("A 503 is retried and the same event then accepted")
    func retryThenSuccess() async throws {
        let server = try await FakeVendorServer.start(script: [.status(503), .json(202, Self.accepted)])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try setUp(server, key: "resolved")
        let sender = SocketDelivery(provider: provider, transport: transport)

        let error = try #require(try await sender.attempt(delivery).classifiedFailure)
        #expect(error.isRetryable)
        #expect(error.reason == .serverError)
        #expect(try await sender.attempt(delivery) == .delivered(receipt: "acme/BACKEND-1A"))
        let bodies = server.requests().map(\.body)
        #expect(bodies.count == 2)
        #expect(bodies[0] == bodies[1])
        try await server.shutdown()
    }

    @Test("A 429 retries no sooner than a minute later")
    func throttled() async throws {
        let server = try await FakeVendorServer.start(script: [.status(429, retryAfter: "5")])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try setUp(server)

        let error = try #require(
            try await SocketDelivery(provider: provider, transport: transport).attempt(delivery).classifiedFailure
        )
        #expect(error.reason == .rateLimited)
        #expect(error.notBefore == Fixtures.now.addingTimeInterval(60))
        try await server.shutdown()
    }

    @Test("An invalid event (400) fails permanently")
    func permanentFailure() async throws {
        let server = try await FakeVendorServer.start(script: [.json(400, PagerDutyClassificationTests.invalid)])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try setUp(server)

        let error = try #require(
            try await SocketDelivery(provider: provider, transport: transport).attempt(delivery).classifiedFailure
        )
        #expect(error.disposition == .permanent)
        #expect(error.reason == .invalidPayload)
        #expect(error.detail.contains("payload.severity"))
        try await server.shutdown()
    }
}
