import Foundation
import HeraldOutbox
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite struct OutboxRouterTests {
    static func request(
        _ path: String,
        _ body: String,
        delivery: String = "7",
        event: String = "ev-1"
    )
        -> RecordedRequest
    {
        RecordedRequest(
            method: "POST",
            path: path,
            headers: [("X-Herald-Event-Id", event), ("X-Herald-Delivery-Id", delivery)],
            body: Data(body.utf8),
            receivedAt: Date(),
            connectionID: 1
        )
    }

    static func status(_ response: LocalHTTPResponse) -> Int {
        switch response {
        case .status(let code, _, _), .json(let code, _): code
        default: -1
        }
    }

    static func body(_ response: LocalHTTPResponse) -> String {
        switch response {
        case .status(_, _, let body), .json(_, let body): body
        default: ""
        }
    }

    struct Shape: Sendable, CustomTestStringConvertible {
        var path: String
        var body: String
        var channel: String
        var destination: String
        var title: String
        var status: Int
        var testDescription: String { channel + " " + path }
    }

    static let shapes: [Shape] = [
        Shape(
            path: "/slack/api/chat.postMessage",
            body: #"{"channel":"C0123456789","text":"Ann assigned BACKEND-1 to you","blocks":[]}"#,
            channel: "slack",
            destination: "C0123456789",
            title: "Ann assigned BACKEND-1 to you",
            status: 200
        ),
        Shape(
            path: "/slack/hooks/payments",
            body: #"{"text":"Payout sent"}"#,
            channel: "slack",
            destination: "payments",
            title: "Payout sent",
            status: 200
        ),
        Shape(
            path: "/teams/finance",
            body: #"""
                {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
                "content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"Payout sent"}]}}]}
                """#,
            channel: "msteams",
            destination: "finance",
            title: "Payout sent",
            status: 202
        ),
        Shape(
            path: "/pagerduty/v2/enqueue",
            body: #"""
                {"routing_key":"0123456789abcdef0123456789abcdef","event_action":"trigger","dedup_key":"acme/B-1",
                "payload":{"summary":"TypeError in checkout","source":"herald","severity":"error"}}
                """#,
            channel: "pagerduty",
            destination: "0123…cdef",
            title: "[trigger] TypeError in checkout",
            status: 202
        ),
        Shape(
            path: "/twilio/2010-04-01/Accounts/AC0123/Messages.json",
            body: "To=%2B15550000001&From=%2B15550001111&Body=Payout+sent%3A+42+EUR",
            channel: "sms",
            destination: "+15550000001",
            title: "Payout sent: 42 EUR",
            status: 201
        ),
        Shape(
            path: "/webhook/ledger",
            body: #"{"event":{},"recipient":{},"rendered":{"title":"Payout sent","text":"42 EUR","url":null}}"#,
            channel: "webhook",
            destination: "ledger",
            title: "Payout sent",
            status: 200
        ),
    ]

    @Test(arguments: shapes) func answersEachProviderLikeTheVendorAndRecordsIt(shape: Shape) throws {
        let router = OutboxRouter()
        let (response, entry) = router.answer(Self.request(shape.path, shape.body))
        #expect(Self.status(response) == shape.status)
        #expect(entry.channel == shape.channel)
        #expect(entry.destination == shape.destination)
        #expect(entry.title == shape.title)
        #expect(entry.outcome == "delivered")
        #expect(entry.eventId == "ev-1")
        #expect(entry.deliveryId == "7")
        #expect(entry.body == shape.body)
        #expect(entry.line.contains(shape.channel) && entry.line.hasSuffix("-> delivered"), "\(entry.line)")
    }

    @Test func vendorSuccessBodiesCarryWhatHeraldReadsAsAReceipt() throws {
        let router = OutboxRouter()
        let api = router.answer(Self.request("/slack/api/chat.postMessage", #"{"channel":"C0123456789","text":"x"}"#))
        let slack = try JSONSerialization.jsonObject(with: Data(Self.body(api.response).utf8)) as? [String: Any]
        #expect(slack?["ok"] as? Bool == true)
        #expect((slack?["ts"] as? String)?.isEmpty == false)
        let sms = router.answer(Self.request("/twilio/2010-04-01/Accounts/A/Messages.json", "To=%2B1555&Body=x"))
        let twilio = try JSONSerialization.jsonObject(with: Data(Self.body(sms.response).utf8)) as? [String: Any]
        #expect((twilio?["sid"] as? String)?.hasPrefix("SM") == true)
        #expect((twilio?["sid"] as? String)?.count == 34)
        let pd = router.answer(Self.request("/v2/enqueue", #"{"routing_key":"k","dedup_key":"acme/B-1"}"#))
        let pagerduty = try JSONSerialization.jsonObject(with: Data(Self.body(pd.response).utf8)) as? [String: Any]
        #expect(pagerduty?["dedup_key"] as? String == "acme/B-1")
    }

    @Test(arguments: [
        ("/slack/hooks/retry-once", 500, "/slack/hooks/dead-once", 400),
        ("/teams/retry-once", 503, "/teams/dead-once", 400),
        ("/webhook/retry-once", 503, "/webhook/dead-once", 400),
    ])
    func scriptedDestinationsFailTheFirstAttemptOfEachDelivery(
        retryPath: String,
        retryStatus: Int,
        deadPath: String,
        deadStatus: Int
    ) {
        let router = OutboxRouter()
        let body = #"{"text":"x","rendered":{"title":"x"}}"#
        let first = router.answer(Self.request(retryPath, body, delivery: "1"))
        #expect(Self.status(first.response) == retryStatus)
        #expect(first.entry.outcome == "retry-once")
        #expect(first.entry.line.hasSuffix("-> retry-once: answered \(retryStatus)"), "\(first.entry.line)")
        let again = router.answer(Self.request(retryPath, body, delivery: "1"))
        #expect(again.entry.outcome == "delivered")
        #expect((200..<300).contains(Self.status(again.response)))
        let otherDelivery = router.answer(Self.request(retryPath, body, delivery: "2"))
        #expect(otherDelivery.entry.outcome == "retry-once")

        let dead = router.answer(Self.request(deadPath, body, delivery: "3"))
        #expect(Self.status(dead.response) == deadStatus)
        #expect(dead.entry.outcome == "dead-once")
        let replay = router.answer(Self.request(deadPath, body, delivery: "3"))
        #expect(replay.entry.outcome == "delivered")
    }

    @Test func slackWebAPIDeadOnceIsAPermanentSlackError() {
        // chat.postMessage channels are Slack ids, so a scripted name only fits webhook-style paths; the Web API
        // still answers its own error shape when a channel id carries the marker through a custom apiURL path.
        let router = OutboxRouter()
        let (response, entry) = router.answer(
            Self.request("/slack/api/chat.postMessage", #"{"channel":"dead-once","text":"x"}"#)
        )
        #expect(Self.status(response) == 200)
        #expect(Self.body(response).contains("channel_not_found"))
        #expect(entry.outcome == "dead-once")
    }

    @Test func unknownPathsAreRefusedAndRecorded() {
        let router = OutboxRouter()
        let (response, entry) = router.answer(Self.request("/nowhere", "{}"))
        #expect(Self.status(response) == 404)
        #expect(entry.channel == "unknown")
        #expect(entry.outcome == "not-found")
    }

    static func mail(to: String, subject: String, delivery: String = "9") -> ReceivedMail {
        let text = [
            "X-Herald-Delivery-Id: \(delivery)", "From: Herald <notify@example.com>", "To: \(to)",
            "Subject: \(subject)", "X-Herald-Event-Id: ev-2", "", "body", "",
        ].joined(separator: "\r\n")
        return ReceivedMail(
            envelopeFrom: "notify@example.com",
            envelopeTo: [to],
            data: Data(text.utf8),
            receivedAt: Date()
        )
    }

    @Test func emailIsAcceptedWithItsDecodedSubject() {
        let router = OutboxRouter()
        let (reply, entry) = router.answer(
            Self.mail(to: "ann@example.com", subject: "=?UTF-8?B?W0hlcmFsZF0gUGF5b3V0IHNlbnQg4oKs?=")
        )
        #expect(reply == nil)
        #expect(entry.channel == "email")
        #expect(entry.destination == "ann@example.com")
        #expect(entry.title == "[Herald] Payout sent €")
        #expect(entry.status == 250)
        #expect(entry.eventId == "ev-2")
        #expect(entry.deliveryId == "9")
        let quoted = router.answer(Self.mail(to: "b@example.com", subject: "=?UTF-8?Q?Caf=C3=A9_ready?= now"))
        #expect(quoted.entry.title == "Café ready now")
    }

    @Test func scriptedMailboxesRefuseTheFirstAttempt() {
        let router = OutboxRouter()
        let retry = router.answer(Self.mail(to: "retry-once@example.com", subject: "x"))
        #expect(retry.reply?.code == 451)
        #expect(router.answer(Self.mail(to: "retry-once@example.com", subject: "x")).reply == nil)
        let dead = router.answer(Self.mail(to: "dead-once@example.com", subject: "x", delivery: "10"))
        #expect(dead.reply?.code == 554)
        #expect(dead.entry.outcome == "dead-once")
        #expect(router.answer(Self.mail(to: "dead-once@example.com", subject: "x", delivery: "10")).reply == nil)
    }

    @Test func outboxAnswersOverASocketAndRecordsEveryRequestAsAJSONLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("record.jsonl").path
        let reported = Mutex<[String]>([])
        let outbox = try await Outbox.start(
            Outbox.Options(httpPort: 0, smtpPort: 0, recordPath: path),
            report: { entry in reported.withLock { $0.append(entry.line) } }
        )
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(outbox.http.port)/webhook/ledger")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"rendered":{"title":"Payout sent"}}"#.utf8)
        request.setValue("42", forHTTPHeaderField: "X-Herald-Delivery-Id")
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        try await outbox.shutdown()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let entry = try JSONDecoder().decode(OutboxEntry.self, from: Data(lines[0].utf8))
        #expect(entry.channel == "webhook" && entry.destination == "ledger" && entry.deliveryId == "42")
        #expect(outbox.entries() == [entry])
        #expect(reported.withLock { $0 } == [entry.line])
    }
}
