import Foundation
import HeraldTesting
import Testing

/// Every channel at once (SPEC §5.2, §6, §7, §8, §9): one user who hears workflow events on email, Slack, Teams
/// and SMS, and a project route that pages PagerDuty. The real `herald` executable, a fake HTTP server standing
/// in for Slack, Teams, PagerDuty and Twilio, and a fake SMTP server.
extension EndToEndTests {
    @Suite("mixed channels: email, Slack, Teams, PagerDuty and SMS from one daemon")
    struct MixedChannelsEndToEndTests {
        /// Events of the shape run (the benchmark does 2,000 in a release build; this keeps the debug build fast).
        static let eventCount = 2_000
        /// Deliveries per escalating event: u1 on email, Slack, Teams and SMS, plus the PagerDuty route.
        static let deliveriesPerEvent = 5
    }
}

// MARK: - Tests

extension EndToEndTests.MixedChannelsEndToEndTests {
    @Test("every delivery arrives with the right shape (W2)", .timeLimit(.minutes(4)))
    func everyDeliveryHasTheRightShape() async throws {
        let total = Self.eventCount
        let fixture = try await MixedChannelsFixture.start(users: [.ann])
        defer { fixture.close() }

        let started = ContinuousClock.now
        let ids = try await fixture.env.enqueueAccepted(
            EventJSON.lines((0..<total).map { MixedEvent.object(id: "w2-\($0)", key: "escalating", n: $0) })
        )
        try #require(ids.count == total)
        try #require(Set(ids) == Set((0..<total).map { "w2-\($0)" }))

        let expected = total * Self.deliveriesPerEvent
        try await eventually(
            "\(expected) requests and messages at the sinks "
                + "(HTTP \(fixture.http.requestCount), SMTP \(fixture.smtp.messages().count))",
            timeout: .seconds(150),
            every: .milliseconds(100)
        ) {
            fixture.http.requestCount + fixture.smtp.messages().count >= expected
        }
        let status = try await fixture.env.waitForStatus(
            "\(expected) delivered",
            timeout: .seconds(30),
            daemon: fixture.daemon
        ) { $0.deliveries("delivered") + $0.deliveries("dead") >= expected }
        print("mixed channels: \(expected) deliveries of \(total) events in \(ContinuousClock.now - started)")
        #expect(status.deliveries("delivered") == expected, "\(status)")
        #expect(status.deliveries("dead") == 0, "\(status)")
        #expect(status.totalDeliveries == expected, "exactly \(Self.deliveriesPerEvent) deliveries per event")

        let requests = fixture.http.requests()
        let mails = fixture.smtp.messages()
        #expect(requests.count == total * 4, "Slack, Teams, PagerDuty and Twilio: one request per event each")
        #expect(mails.count == total, "one email per event")

        var problems: [String] = []
        var seen: [String: [Int]] = [:]
        var deliveryIDs: [String] = []
        for request in requests {
            let label = "\(request.method) \(request.path) [\(request.header("X-Herald-Event-Id") ?? "no event id")]"
            guard let eventID = request.header("X-Herald-Event-Id"), let n = MixedEvent.number(of: eventID) else {
                problems.append("\(label): no known X-Herald-Event-Id")
                continue
            }
            if let delivery = request.header("X-Herald-Delivery-Id") {
                deliveryIDs.append(delivery)
            } else {
                problems.append("\(label): no X-Herald-Delivery-Id")
            }
            if request.header("User-Agent")?.hasPrefix("Herald/") != true {
                problems.append("\(label): User-Agent \(request.header("User-Agent") ?? "missing")")
            }
            if request.method != "POST" { problems.append("\(label): method \(request.method)") }
            let sink = MixedVendor.Sink(path: request.path)
            seen[sink.rawValue, default: []].append(n)
            problems += sink.problems(with: request, n: n).map { "\(label): \($0)" }
        }
        for mail in mails {
            let check = MixedMail(mail)
            guard let n = check.eventNumber else {
                problems.append("email to \(mail.envelopeTo): no known X-Herald-Event-Id header")
                continue
            }
            seen["email", default: []].append(n)
            if let delivery = check.header("X-Herald-Delivery-Id") { deliveryIDs.append(delivery) }
            problems += check.problems(n: n, to: MixedUser.ann.email).map { "email w2-\(n): \($0)" }
        }
        #expect(problems.count == 0, "first problems: \(problems.prefix(12))")
        for channel in ["slack", "msteams", "pagerduty", "sms", "email"] {
            let numbers = seen[channel] ?? []
            #expect(numbers.sorted() == Array(0..<total), "\(channel): each event exactly once (\(numbers.count))")
        }
        #expect(seen["unknown"] == nil, "requests to unexpected paths: \(seen["unknown"]?.count ?? 0)")
        #expect(deliveryIDs.count == expected, "every request and message carries X-Herald-Delivery-Id")
        #expect(Set(deliveryIDs).count == deliveryIDs.count, "delivery ids are distinct")
        #expect(fixture.daemon.isRunning)
        try await fixture.shutdown()
    }

    @Test("a resolve closes the PagerDuty incident the trigger opened (same dedup_key)", .timeLimit(.minutes(2)))
    func pagerDutyResolveUsesTheTriggersDedupKey() async throws {
        let fixture = try await MixedChannelsFixture.start(users: [.ann])
        defer { fixture.close() }
        let pagerDuty = { fixture.http.requests().filter { $0.path == MixedVendor.pagerDutyPath } }

        try await fixture.enqueue(id: "pd-trigger", key: "escalating", n: 7)
        try await eventually("the PagerDuty trigger", timeout: .seconds(30)) { pagerDuty().count >= 1 }
        try await fixture.enqueue(id: "pd-resolve", key: "resolved", n: 7)
        try await eventually("the PagerDuty resolve", timeout: .seconds(30)) { pagerDuty().count >= 2 }
        // resolved is a workflow key too: u1 hears it on their four channels; the route resolves.
        let status = try await fixture.env.waitForStatus(
            "both events settled",
            timeout: .seconds(30),
            daemon: fixture.daemon
        ) { $0.totalEvents == 2 && $0.totalDeliveries == 10 && $0.unsettled == 0 }
        #expect(status.deliveries("delivered") == 10, "\(status)")

        let pages = pagerDuty()
        try #require(pages.count == 2, "one trigger, one resolve: \(pages.map(\.bodyText))")
        let trigger = try #require(MixedJSON.object(pages[0].body), "trigger body: \(pages[0].bodyText)")
        let resolve = try #require(MixedJSON.object(pages[1].body), "resolve body: \(pages[1].bodyText)")
        #expect(pages[0].header("X-Herald-Event-Id") == "pd-trigger")
        #expect(pages[1].header("X-Herald-Event-Id") == "pd-resolve")
        #expect(trigger["event_action"] as? String == "trigger")
        #expect(trigger["dedup_key"] as? String == "acme/BACKEND-7")
        #expect(resolve["event_action"] as? String == "resolve", "resolve body: \(pages[1].bodyText)")
        #expect(resolve["routing_key"] as? String == MixedVendor.routingKey)
        let triggerKey = try #require(trigger["dedup_key"] as? String)
        #expect(resolve["dedup_key"] as? String == triggerKey, "the resolve names the incident the trigger opened")
        try await fixture.shutdown()
    }

    @Test("explain lists the five deliveries, and no_address:sms for a user without a phone", .timeLimit(.minutes(2)))
    func explainListsDeliveriesAndSuppressions() async throws {
        let fixture = try await MixedChannelsFixture.start(users: [.ann])
        defer { fixture.close() }

        try await fixture.enqueue(id: "explain-1", key: "escalating", n: 1)
        try await fixture.env.waitForStatus("explain-1 delivered", timeout: .seconds(30), daemon: fixture.daemon) {
            $0.deliveries("delivered") == 5 && $0.unsettled == 0
        }
        let first = try await MixedExplain.run(fixture.env, eventID: "explain-1")
        #expect(first.id == "explain-1")
        #expect(first.deliveries.count == 5, "\(first.raw)")
        #expect(
            Set(first.deliveries.map(\.channel)) == ["email", "slack", "msteams", "sms", "pagerduty"],
            "\(first.raw)"
        )
        let personal = first.deliveries.filter { $0.channel != "pagerduty" }
        #expect(personal.allSatisfy { $0.recipient.contains("u1") }, "u1 gets the personal channels: \(first.raw)")
        #expect(first.deliveries.allSatisfy { $0.state == "delivered" }, "\(first.raw)")
        #expect(!first.suppressed.contains { $0.reason.hasPrefix("no_address") }, "\(first.raw)")

        // u2 joins the team with SMS on but no phone; the running daemon picks up the import.
        try await fixture.importDirectory(users: [.ann, .ben])
        try await fixture.enqueue(id: "explain-2", key: "escalating", n: 2)
        // explain-2: u1 × 4, u2 × 3 (email, Slack, Teams), the route.
        try await fixture.env.waitForStatus("explain-2 delivered", timeout: .seconds(30), daemon: fixture.daemon) {
            $0.totalEvents == 2 && $0.deliveries("delivered") >= 5 + 8 && $0.unsettled == 0
        }
        let second = try await MixedExplain.run(fixture.env, eventID: "explain-2")
        #expect(second.deliveries.count == 8, "\(second.raw)")
        let ben = second.deliveries.filter { $0.recipient.contains("u2") }
        #expect(Set(ben.map(\.channel)) == ["email", "slack", "msteams"], "\(second.raw)")
        let noPhone = second.suppressed.filter { $0.reason == "no_address:sms" }
        #expect(noPhone.count == 1, "\(second.raw)")
        #expect(noPhone.first?.recipient.contains("u2") == true, "\(second.raw)")
        #expect(noPhone.first.map { $0.channel == nil || $0.channel == "sms" } == true, "\(second.raw)")
        #expect(!second.suppressed.contains { $0.recipient.contains("u1") }, "\(second.raw)")
        try await fixture.shutdown()
    }
}

// MARK: - Fixture

/// A directory user of these tests.
struct MixedUser {
    var id: String
    var name: String
    var email: String
    var phone: String?
    var slackId: String

    /// Ann: every address (email, Slack, Teams, phone).
    static let ann = MixedUser(
        id: "u1",
        name: "Ann Lee",
        email: "ann@acme.test",
        phone: "+15550000001",
        slackId: "U0000000001"
    )
    /// Ben: no phone.
    static let ben = MixedUser(id: "u2", name: "Ben Ode", email: "ben@acme.test", phone: nil, slackId: "U0000000002")
}

/// The servers, the work directory and the running daemon of one test.
final class MixedChannelsFixture {
    let http: FakeVendorServer
    let smtp: FakeSMTPServer
    let env: HeraldEnvironment
    private(set) var daemon: DaemonProcess!

    private init(http: FakeVendorServer, smtp: FakeSMTPServer, env: HeraldEnvironment) {
        self.http = http
        self.smtp = smtp
        self.env = env
    }

    /// Starts the sinks, writes the configuration, imports the directory and starts `herald serve`.
    static func start(users: [MixedUser]) async throws -> MixedChannelsFixture {
        let http = try await FakeVendorServer.start(threads: 2) { MixedVendor.respond($0) }
        let smtp = try await FakeSMTPServer.start()
        let env = try HeraldEnvironment()
        let fixture = MixedChannelsFixture(http: http, smtp: smtp, env: env)
        do {
            let tokenFile = try env.writeSecret("twilio-token", MixedVendor.twilioToken)
            try env.writeConfig(yaml: fixture.configuration(twilioTokenFile: tokenFile))
            try await fixture.importDirectory(users: users)
            fixture.daemon = try await env.startDaemon()
            return fixture
        } catch {
            fixture.close()
            throw error
        }
    }

    /// Kills the daemon and removes the work directory (the servers stop when released).
    func close() { env.close() }

    /// Stops both servers.
    func shutdown() async throws {
        try await http.shutdown()
        try await smtp.shutdown()
    }

    /// Enqueues one issue event (`MixedEvent`) and requires it accepted under its id.
    func enqueue(id: String, key: String, n: Int) async throws {
        let ids = try await env.enqueueAccepted(EventJSON.lines([MixedEvent.object(id: id, key: key, n: n)]))
        guard ids == [id] else { throw HarnessError("herald enqueue accepted \(ids), expected [\(id)]") }
    }

    /// `herald import` of the directory with `users` as the members of team t1.
    func importDirectory(users: [MixedUser]) async throws {
        let data = try JSONSerialization.data(withJSONObject: directory(users: users), options: [.sortedKeys])
        try await env.importDirectory(data)
    }

    func configuration(twilioTokenFile: String) -> String {
        let pacing = "    rateLimit: { perSecond: 0 }"
        let lines = [
            "store:",
            "  sqlite:",
            "    path: \"var/herald.db\"",
            "worker:",
            "  concurrency: 64",
            "  leaseSeconds: 30",
            "log:",
            "  level: info",
            "  format: logfmt",
            "links:",
            "  settingsURL: \"https://tracker.example/settings/notifications/{key}\"",
            "defaults:",
            "  email: 1",
            "  slack: 2",
            "  pagerduty: 3",
            "  msteams: 4",
            "  sms: 5",
            "  webhook: 6",
            "notifiers:",
            "  - id: 1",
            "    name: smtp-local",
            "    channel: email",
            "    email:",
            "      url: \"smtp://127.0.0.1:\(smtp.port)\"",
            "      allowInsecure: true",
            "      from: \"Herald <notify@example.com>\"",
            pacing,
            "  - id: 2",
            "    name: slack-bot",
            "    channel: slack",
            "    slack:",
            "      apiURL: \"\(http.baseURL)/api\"",
            "      tokenFile: \"secrets/slack-token\"",
            pacing,
            "  - id: 3",
            "    name: pagerduty",
            "    channel: pagerduty",
            "    pagerduty:",
            "      eventsURL: \"\(http.baseURL)\(MixedVendor.pagerDutyPath)\"",
            pacing,
            "  - id: 4",
            "    name: teams",
            "    channel: msteams",
            "    msteams: {}",
            pacing,
            "  - id: 5",
            "    name: twilio",
            "    channel: sms",
            "    sms:",
            "      apiURL: \"\(http.baseURL)\"",
            "      accountSid: \"\(MixedVendor.accountSid)\"",
            "      authTokenFile: \"\(twilioTokenFile)\"",
            "      from: \"\(MixedVendor.smsFrom)\"",
            pacing,
            "  - id: 6",
            "    name: webhook",
            "    channel: webhook",
            "    webhook:",
            "      signingSecretFile: \"secrets/webhook-secret\"",
            pacing,
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The SPEC §5.2 import document: org acme, team t1 of `users`, project backend with a PagerDuty route.
    func directory(users: [MixedUser]) -> [String: Any] {
        let userObjects: [[String: Any]] = users.map { user in
            [
                "id": user.id, "organization": "acme", "name": user.name, "email": user.email,
                "emailVerified": true, "phone": user.phone.map { $0 as Any } ?? NSNull(), "slackId": user.slackId,
                "msteamsWebhook": "\(http.baseURL)/teams/\(user.id)", "timezone": "Europe/Berlin",
                "lastActiveAt": "2026-11-20T10:00:00Z", "isActive": true, "selfNotifications": false,
            ]
        }
        let preferences: [[String: Any]] = users.flatMap { user -> [[String: Any]] in
            let row = { (channel: String?) -> [String: Any] in
                [
                    "user": user.id, "scope": "user", "scopeId": user.id, "subject": "workflow",
                    "channel": channel.map { $0 as Any } ?? NSNull(), "value": "always",
                ]
            }
            return [row(nil), row("msteams"), row("sms")]
        }
        return [
            "organizations": [["id": "acme", "slug": "acme", "name": "Acme Inc."]],
            "users": userObjects,
            "teams": [["id": "t1", "organization": "acme", "slug": "backend-team", "members": users.map(\.id)]],
            "projects": [
                [
                    "id": "p1", "organization": "acme", "slug": "backend", "name": "Backend", "teams": ["t1"],
                    "routes": [
                        [
                            "id": "pd", "channel": "pagerduty", "notifier": 3, "target": MixedVendor.routingKey,
                            "filter": [String: Any](),
                        ]
                    ],
                ]
            ],
            "preferences": preferences,
        ]
    }
}

/// Issue events on project backend, numbered: issue `i<n>`, short id `BACKEND-<n>`.
enum MixedEvent {
    static func object(id: String, key: String, n: Int) -> [String: Any] {
        [
            "id": id, "key": key, "organization": "acme", "project": "backend",
            "issue": [
                "id": "i\(n)", "shortId": "BACKEND-\(n)", "title": "TimeoutError: upstream \(n) did not answer",
                "url": "https://tracker.example/acme/issues/i\(n)/", "level": "error",
            ],
            "data": [String: Any](),
        ]
    }

    /// The number of an event id `<prefix>-<n>`.
    static func number(of eventID: String) -> Int? {
        eventID.split(separator: "-").last.flatMap { Int($0) }
    }
}

// MARK: - Sinks

/// The fake vendor server's routes and what each kind of request must look like.
enum MixedVendor {
    static let accountSid = "AC0123456789abcdef0123456789abcdef"
    static let twilioToken = "twilio-test-AUTH-TOKEN-789"
    static let smsFrom = "+15550001111"
    static let routingKey = "0123456789abcdef0123456789abcdef"
    static let pagerDutyPath = "/v2/enqueue"
    static let slackPath = "/api/chat.postMessage"
    static let twilioPath = "/2010-04-01/Accounts/\(accountSid)/Messages.json"

    enum Sink: String {
        case slack, msteams, pagerduty, sms, unknown

        init(path: String) {
            switch path {
            case MixedVendor.slackPath: self = .slack
            case MixedVendor.pagerDutyPath: self = .pagerduty
            case MixedVendor.twilioPath: self = .sms
            case _ where path.hasPrefix("/teams/"): self = .msteams
            default: self = .unknown
            }
        }

        /// What is wrong with `request`, the delivery of event number `n` (empty when nothing is).
        func problems(with request: RecordedRequest, n: Int) -> [String] {
            switch self {
            case .slack: MixedVendor.slackProblems(request)
            case .msteams: MixedVendor.teamsProblems(request)
            case .pagerduty: MixedVendor.pagerDutyProblems(request, n: n)
            case .sms: MixedVendor.twilioProblems(request)
            case .unknown: ["unexpected path"]
            }
        }
    }

    static func respond(_ request: RecordedRequest) -> FakeResponse {
        switch Sink(path: request.path) {
        case .slack: .json(200, #"{"ok":true,"ts":"1.1"}"#)
        case .msteams: .status(202)
        case .pagerduty: .json(202, #"{"status":"success","message":"Event processed","dedup_key":"x"}"#)
        case .sms: .json(201, #"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#)
        case .unknown: .status(404, body: "no such path")
        }
    }

    static func slackProblems(_ request: RecordedRequest) -> [String] {
        guard let body = MixedJSON.object(request.body) else { return ["body is not a JSON object"] }
        var problems: [String] = []
        if request.header("Authorization") != "Bearer \(HeraldConfig.slackToken)" {
            problems.append("Authorization is not the bot token")
        }
        if body["channel"] as? String != MixedUser.ann.slackId { problems.append("channel \(body["channel"] ?? "-")") }
        if (body["text"] as? String)?.isEmpty != false { problems.append("no text fallback") }
        if let blocks = body["blocks"] as? [Any] {
            if blocks.isEmpty || blocks.count > 50 { problems.append("\(blocks.count) blocks") }
        } else {
            problems.append("no blocks array")
        }
        return problems
    }

    static func teamsProblems(_ request: RecordedRequest) -> [String] {
        var problems: [String] = []
        if request.path != "/teams/\(MixedUser.ann.id)" { problems.append("not u1's Teams webhook") }
        if request.body.count > 20_000 { problems.append("body of \(request.body.count) bytes > 20 KB") }
        guard let body = MixedJSON.object(request.body) else { return problems + ["body is not a JSON object"] }
        if body["type"] as? String != "message" { problems.append("type \(body["type"] ?? "-")") }
        guard let attachments = body["attachments"] as? [[String: Any]], attachments.count == 1 else {
            return problems + ["attachments is not one object"]
        }
        let attachment = attachments[0]
        if attachment["contentType"] as? String != "application/vnd.microsoft.card.adaptive" {
            problems.append("contentType \(attachment["contentType"] ?? "-")")
        }
        let content = attachment["content"] as? [String: Any]
        if content?["type"] as? String != "AdaptiveCard" { problems.append("content.type \(content?["type"] ?? "-")") }
        if content?["version"] as? String != "1.4" { problems.append("content.version \(content?["version"] ?? "-")") }
        if (content?["body"] as? [Any])?.isEmpty != false { problems.append("empty card body") }
        return problems
    }

    static func pagerDutyProblems(_ request: RecordedRequest, n: Int) -> [String] {
        guard let body = MixedJSON.object(request.body) else { return ["body is not a JSON object"] }
        var problems: [String] = []
        if body["routing_key"] as? String != routingKey { problems.append("routing_key \(body["routing_key"] ?? "-")") }
        if body["event_action"] as? String != "trigger" {
            problems.append("event_action \(body["event_action"] ?? "-")")
        }
        if body["dedup_key"] as? String != "acme/BACKEND-\(n)" {
            problems.append("dedup_key \(body["dedup_key"] ?? "-")")
        }
        guard let payload = body["payload"] as? [String: Any] else { return problems + ["no payload"] }
        if payload["severity"] as? String != "error" { problems.append("severity \(payload["severity"] ?? "-")") }
        if let summary = payload["summary"] as? String {
            if summary.isEmpty || summary.count > 1024 { problems.append("summary of \(summary.count) characters") }
        } else {
            problems.append("no payload.summary")
        }
        if (payload["source"] as? String)?.isEmpty != false { problems.append("no payload.source") }
        return problems
    }

    static func twilioProblems(_ request: RecordedRequest) -> [String] {
        var problems: [String] = []
        if request.header("Content-Type")?.hasPrefix("application/x-www-form-urlencoded") != true {
            problems.append("Content-Type \(request.header("Content-Type") ?? "-")")
        }
        let expected = "Basic " + Data("\(accountSid):\(twilioToken)".utf8).base64EncodedString()
        if request.header("Authorization") != expected { problems.append("Authorization is not Basic for the sid") }
        let form = MixedForm.fields(request.bodyText)
        if form["To"] != MixedUser.ann.phone { problems.append("To \(form["To"] ?? "-")") }
        if form["From"] != smsFrom { problems.append("From \(form["From"] ?? "-")") }
        if form["Body"]?.isEmpty != false { problems.append("empty Body") }
        return problems
    }
}

/// One received email, split into its header fields.
struct MixedMail {
    let mail: ReceivedMail
    /// Unfolded header fields, in order.
    let headers: [(name: String, value: String)]

    init(_ mail: ReceivedMail) {
        self.mail = mail
        let text = mail.text
        let head = text.range(of: "\r\n\r\n").map { String(text[..<$0.lowerBound]) } ?? text
        var fields: [(name: String, value: String)] = []
        for line in head.components(separatedBy: "\r\n") {
            if line.first == " " || line.first == "\t", let last = fields.popLast() {
                fields.append((last.name, last.value + " " + line.trimmingCharacters(in: .whitespaces)))
            } else if let colon = line.firstIndex(of: ":") {
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                fields.append((String(line[..<colon]), value))
            }
        }
        headers = fields
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    var eventNumber: Int? { header("X-Herald-Event-Id").flatMap(MixedEvent.number(of:)) }

    func problems(n: Int, to address: String) -> [String] {
        var problems: [String] = []
        if mail.envelopeTo != [address] { problems.append("envelope to \(mail.envelopeTo)") }
        let bytes = [UInt8](mail.data)
        let bareLF = bytes.indices.contains { bytes[$0] == 0x0A && ($0 == 0 || bytes[$0 - 1] != 0x0D) }
        if bareLF { problems.append("a line does not end in CRLF") }
        if header("Content-Type")?.lowercased().hasPrefix("multipart/alternative") != true {
            problems.append("Content-Type \(header("Content-Type") ?? "-")")
        }
        if let subject = header("Subject") {
            if MixedMail.shortIdNumber(in: subject) != n { problems.append("Subject \(subject)") }
        } else {
            problems.append("no Subject")
        }
        for name in ["Message-ID", "X-Herald-Delivery-Id", "X-Herald-Event-Id", "From", "To", "Date"]
        where header(name)?.isEmpty != false {
            problems.append("no \(name)")
        }
        return problems
    }

    /// The number after `BACKEND-` in `text`.
    static func shortIdNumber(in text: String) -> Int? {
        guard let range = text.range(of: "BACKEND-") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }
}

enum MixedJSON {
    static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

enum MixedForm {
    /// `application/x-www-form-urlencoded` fields (the last value of a repeated name wins).
    static func fields(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

/// `herald explain ID --format json`.
struct MixedExplain {
    struct Delivery {
        var channel: String
        var recipient: String
        var state: String
    }

    struct Suppression {
        var recipient: String
        var channel: String?
        var reason: String
    }

    var id: String
    var deliveries: [Delivery]
    var suppressed: [Suppression]
    var raw: String

    static func run(_ env: HeraldEnvironment, eventID: String) async throws -> MixedExplain {
        let result = try await env.run(["explain", eventID, "--format", "json"])
        guard result.exitCode == 0 else { throw HarnessError("herald explain \(eventID) failed: \(result)") }
        guard let object = MixedJSON.object(Data(result.stdout.utf8)) else {
            throw HarnessError("herald explain printed something that is not JSON: \(result.stdout)")
        }
        let deliveries = (object["deliveries"] as? [[String: Any]] ?? []).map {
            Delivery(
                channel: $0["channel"] as? String ?? "",
                recipient: $0["recipient"] as? String ?? "",
                state: $0["state"] as? String ?? ""
            )
        }
        let suppressed = (object["suppressed"] as? [[String: Any]] ?? []).map {
            Suppression(
                recipient: $0["recipient"] as? String ?? "",
                channel: $0["channel"] as? String,
                reason: $0["reason"] as? String ?? ""
            )
        }
        return MixedExplain(
            id: object["id"] as? String ?? "",
            deliveries: deliveries,
            suppressed: suppressed,
            raw: result.stdout
        )
    }
}
