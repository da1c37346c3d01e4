import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

@testable import HeraldProviders

/// Decoded form fields, for assertions.
private func fields(_ body: Data) throws -> [String: String] {
    let decoded = try #require(FormURLEncoding.decode(String(decoding: body, as: UTF8.self)))
    return Dictionary(decoded.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
}

private func smsProvider(
    budget: Int = 1,
    from: String? = Fixtures.twilioFrom,
    messagingServiceSid: String? = nil,
    apiURL: String = SMSConnection.defaultAPIURL
) -> SMSProvider {
    SMSProvider(
        notifier: Fixtures.smsNotifier,
        connection: SMSConnection(
            apiURL: apiURL,
            accountSid: Fixtures.twilioAccountSid,
            authToken: Fixtures.twilioAuthToken,
            from: from,
            messagingServiceSid: messagingServiceSid,
            segmentBudget: budget
        )
    )
}

@Suite("SMS rendering")
struct SMSRenderingTests {
    let provider = smsProvider()

    @Test("Golden renderings", arguments: Fixtures.goldenKeys)
    func golden(key: String) throws {
        let message = try provider.render(Fixtures.input(key, recipient: Fixtures.smsUser))
        #expect(message.contentType == "application/x-www-form-urlencoded")
        let form = String(decoding: message.body, as: UTF8.self)
        let decoded = try fields(message.body)
        let body = try #require(decoded["Body"])
        let golden: JSONValue = .object([
            "form": .string(form),
            "fields": .object(
                Dictionary(uniqueKeysWithValues: decoded.map { (JSONKey($0.key), JSONValue.string($0.value)) })
            ),
            "encoding": .string(SMSEncoding.required(for: body).rawValue),
            "segments": .number(Double(SMSEncoding.segmentCount(of: body))),
            "truncations": .array(message.truncations.map(JSONValue.string)),
        ])
        try GoldenFiles.check(try GoldenFiles.goldenForm(ofJSON: try golden.canonicalData()), name: "sms/\(key).json")
        #expect(SMSEncoding.segmentCount(of: body) <= 1)
    }

    @Test("One line with the link; the + of E.164 numbers is percent-encoded")
    func shape() throws {
        let message = try provider.render(Fixtures.input("assigned", recipient: Fixtures.smsUser))
        let form = String(decoding: message.body, as: UTF8.self)
        #expect(form.hasPrefix("To=%2B15551230000&From=%2B15550001111&Body="))
        #expect(!form.contains("+"))
        #expect(!form.contains(" "))
        let decoded = try fields(message.body)
        #expect(decoded["To"] == "+15551230000")
        #expect(decoded["From"] == "+15550001111")
        #expect(
            decoded["Body"]
                == "[Herald] Jane Doe assigned BACKEND-1A to Ann Lee: https://tracker.example/acme/issues/9001/"
        )
        #expect(message.truncations.isEmpty)
    }

    @Test("A Messaging Service replaces From")
    func messagingService() throws {
        let provider = smsProvider(messagingServiceSid: "MG0123456789abcdef0123456789abcdef")
        let decoded = try fields(try provider.render(Fixtures.input("note", recipient: Fixtures.smsUser)).body)
        #expect(decoded["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef")
        #expect(decoded["From"] == nil)
        #expect(provider.destination(for: Fixtures.smsUser).key == "MG0123456789abcdef0123456789abcdef")
    }

    @Test(
        "Numbers that are not E.164 refuse to render",
        arguments: ["5551230000", "+0551230000", "+1 555 123 0000", "+1555", "+1234567890123456", "", "+1555abc0000"]
    )
    func invalidNumber(number: String) {
        let recipient = Recipient(kind: .user, id: "u7", address: number)
        #expect(throws: SMSRenderError.self) {
            try provider.render(Fixtures.input("assigned", recipient: recipient))
        }
    }

    @Test("A notifier without a sender refuses to render")
    func noSender() {
        #expect(throws: SMSRenderError.noSender(notifier: "twilio")) {
            try smsProvider(from: nil).render(Fixtures.input("assigned", recipient: Fixtures.smsUser))
        }
    }

    @Test("Typographic quotes are sent as GSM look-alikes, keeping the message GSM-7")
    func smartQuotes() throws {
        let decoded = try fields(try provider.render(Fixtures.input("issue_alert", recipient: Fixtures.smsUser)).body)
        let body = try #require(decoded["Body"])
        #expect(body.hasPrefix("[Herald] Alert rule \"High error rate\" fired for BACKEND-1A"))
        #expect(SMSEncoding.required(for: body) == .gsm7)
    }

    @Test("A custom key's SMS template is the text, the link appended unless it is in it")
    func template() throws {
        let library = try TemplateLibrary(templates: [
            "payout_processed/sms": "Acme: payout of ${{data.amount}} sent.",
            "new_message_creator/sms": "{{actor.name}} wrote to you: {{settingsURL}}",
        ])
        let provider = SMSProvider(
            notifier: Fixtures.smsNotifier,
            connection: SMSConnection(
                accountSid: Fixtures.twilioAccountSid,
                authToken: Fixtures.twilioAuthToken,
                from: Fixtures.twilioFrom
            ),
            templates: library
        )
        let payout = try provider.render(Fixtures.input("payout_processed", recipient: Fixtures.smsUser))
        #expect(try fields(payout.body)["Body"] == "Acme: payout of $1250 sent. https://market.example/payouts/po_8812")
        #expect(payout.truncations.isEmpty)
        let message = try provider.render(Fixtures.input("new_message_creator", recipient: Fixtures.smsUser))
        #expect(
            try fields(message.body)["Body"]
                == "Studio <Nova> wrote to you: https://tracker.example/settings/notifications/new_message_creator"
        )
        // Built-in keys keep Herald's wording.
        let assigned = try provider.render(Fixtures.input("assigned", recipient: Fixtures.smsUser))
        #expect(try fields(assigned.body)["Body"]?.hasPrefix("[Herald] Jane Doe assigned") == true)
    }

    static func longInput(title: String) -> RenderInput {
        var input = Fixtures.input("payout_processed", recipient: Fixtures.smsUser)
        input.event.data["title"] = .string(title)
        return input
    }

    static let link = "https://market.example/payouts/po_8812"

    @Test("Long GSM-7 text is cut to the segment budget, the link intact", arguments: [1, 2, 3])
    func gsmBudget(budget: Int) throws {
        let title = String(repeating: "Payout {batch} processed for the creator account. ", count: 40)
        let message = try smsProvider(budget: budget).render(Self.longInput(title: title))
        let body = try #require(try fields(message.body)["Body"])
        #expect(SMSEncoding.required(for: body) == .gsm7)
        #expect(SMSEncoding.segmentCount(of: body) <= budget)
        #expect(body.hasSuffix("...: " + Self.link))
        #expect(body.hasPrefix("[Herald] Payout {batch}"))
        #expect(message.truncations == ["sms body cut to \(budget) GSM-7 segments"])
        // Filled, not cut short: one more character of the line would not fit.
        let septets = body.reduce(0) { $0 + SMSEncoding.gsm7.units(of: $1) }
        let capacity = budget == 1 ? 160 : 153 * budget
        #expect(septets > capacity - 2 - 2 * budget)
    }

    @Test("Text with emoji is counted in UTF-16 units of UCS-2", arguments: [1, 2, 4])
    func ucs2Budget(budget: Int) throws {
        let title = String(repeating: "🚀 Launch payout für Zoë ", count: 60)
        let message = try smsProvider(budget: budget).render(Self.longInput(title: title))
        let body = try #require(try fields(message.body)["Body"])
        #expect(SMSEncoding.required(for: body) == .ucs2)
        #expect(SMSEncoding.segmentCount(of: body) <= budget)
        #expect(body.utf16.count <= (budget == 1 ? 70 : 67 * budget))
        #expect(body.hasSuffix("…: " + Self.link))
        #expect(body.hasPrefix("[Herald] 🚀"))
        #expect(message.truncations == ["sms body cut to \(budget) UCS-2 segments"])
    }

    @Test("A link longer than the budget is sent alone, whole")
    func linkAlone() throws {
        var input = Self.longInput(title: "Payout processed")
        let link = "https://market.example/payouts/" + String(repeating: "x", count: 170)
        input.event.data["url"] = .string(link)
        let message = try provider.render(input)
        #expect(try fields(message.body)["Body"] == link)
        #expect(!message.truncations.isEmpty)
    }
}

@Suite("SMS segment arithmetic")
struct SMSEncodingTests {
    @Test("The GSM 03.38 alphabet: 127 basic characters (escape excluded) and 10 extension characters")
    func alphabet() {
        #expect(SMSEncoding.gsmBasic.count == 127)
        #expect(SMSEncoding.gsmExtension.count == 10)
        #expect(SMSEncoding.gsmBasic.isDisjoint(with: SMSEncoding.gsmExtension))
    }

    @Test(
        "Segment counts",
        arguments: [
            (String(repeating: "a", count: 160), SMSEncoding.gsm7, 1),
            (String(repeating: "a", count: 161), .gsm7, 2),
            (String(repeating: "a", count: 306), .gsm7, 2),
            (String(repeating: "a", count: 307), .gsm7, 3),
            (String(repeating: "{", count: 80), .gsm7, 1),
            (String(repeating: "{", count: 81), .gsm7, 2),
            // 152 septets then an extension character: it is not split, so it opens a third segment.
            (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152), .gsm7, 3),
            (String(repeating: "é", count: 70), .gsm7, 1),
            (String(repeating: "ę", count: 70), .ucs2, 1),
            (String(repeating: "ę", count: 71), .ucs2, 2),
            (String(repeating: "ę", count: 134), .ucs2, 2),
            (String(repeating: "😀", count: 35), .ucs2, 1),
            (String(repeating: "😀", count: 36), .ucs2, 2),
            // 66 units then a surrogate pair: the pair moves whole to the next segment.
            (String(repeating: "ę", count: 66) + "😀" + String(repeating: "ę", count: 60), .ucs2, 2),
            (String(repeating: "ę", count: 66) + "😀" + String(repeating: "ę", count: 66), .ucs2, 3),
            ("", .gsm7, 1),
        ]
    )
    func segments(text: String, encoding: SMSEncoding, count: Int) {
        #expect(SMSEncoding.required(for: text) == encoding)
        #expect(SMSEncoding.segmentCount(of: text) == count)
    }

    @Test("Form encoding round-trips every character")
    func formRoundTrip() throws {
        let values = ["+15551230000", "a b&c=d%e+f", "Zoë 🚀 “quoted” ~._-", "line\nbreak", ""]
        let form = FormURLEncoding.encode(values.enumerated().map { ("F\($0.offset)", $0.element) })
        let decoded = try #require(FormURLEncoding.decode(form))
        #expect(decoded.map(\.value) == values)
        #expect(form.allSatisfy { $0.isASCII && !$0.isWhitespace })
        #expect(FormURLEncoding.decode("a=%zz") == nil)
    }
}

@Suite("Twilio classification")
struct SMSClassificationTests {
    let provider = smsProvider()

    static func error(_ code: Int, _ status: Int = 400) -> String {
        #"{"code":\#(code),"message":"Twilio says \#(code)","more_info":"https://www.twilio.com/docs/errors/\#(code)","status":\#(status)}"#
    }

    static let sid = "SM1f0e9d8c7b6a50413f2e1d0c9b8a7f6e"
    static let created =
        #"{"sid":"\#(sid)","status":"queued","num_segments":"1","to":"+15551230000","from":"+15550001111","error_code":null,"price":null}"#

    /// providers.md §4 and the Twilio rows of §8.
    static let rows: [ResponseRow] = {
        var rows = [
            ResponseRow(201, created, .delivered(receipt: sid)),
            ResponseRow(201, #"{"sid":"SM2","status":"accepted"}"#, .delivered(receipt: "SM2")),
            ResponseRow(201, #"{"sid":"SM3","status":"scheduled"}"#, .delivered(receipt: "SM3")),
            ResponseRow(200, #"{"sid":"SM4","status":"queued"}"#, .delivered(receipt: "SM4")),
            ResponseRow(201, #"{"status":"queued"}"#, .permanent(.clientError)),
            ResponseRow(201, "", .permanent(.clientError)),
            ResponseRow(400, error(21611), .retry(.rateLimited)),
            ResponseRow(401, error(20003, 401), .permanent(.authentication)),
            ResponseRow(404, error(20404, 404), .permanent(.configuration)),
            ResponseRow(429, error(20429, 429), .retry(.rateLimited)),
            ResponseRow(429, "", .retry(.rateLimited)),
            ResponseRow(500, "", .retry(.serverError, ambiguous: true)),
            ResponseRow(500, error(20500, 500), .retry(.serverError, ambiguous: true)),
            ResponseRow(503, "<html>unavailable</html>", .retry(.serverError, ambiguous: true)),
            ResponseRow(400, error(21999), .permanent(.clientError)),
            ResponseRow(400, "not json", .permanent(.clientError)),
            ResponseRow(401, "", .permanent(.authentication)),
            ResponseRow(404, "", .permanent(.configuration)),
            ResponseRow(413, "", .permanent(.invalidPayload)),
            ResponseRow(302, "", .permanent(.configuration)),
            ResponseRow(100, "", .permanent(.clientError)),
        ]
        rows += [21211, 21614, 21635, 21612, 21610].map { ResponseRow(400, error($0), .permanent(.clientError)) }
        rows += [21408, 21606, 21601, 14102, 21608].map { ResponseRow(400, error($0), .permanent(.configuration)) }
        rows += [21602, 21619, 21617, 21658].map { ResponseRow(400, error($0), .permanent(.invalidPayload)) }
        return rows
    }()

    @Test("Status and code classification", arguments: rows)
    func classification(row: ResponseRow) {
        row.expected.verify(provider.classify(.http(.response(row.response)), now: Fixtures.now), status: row.status)
    }

    @Test("Every code in the table is covered by a row")
    func coverage() {
        let tested = Set(
            Self.rows.compactMap { try? JSONValue.parse(Data($0.body.utf8))["code"]?.numberValue }.map { Int($0) }
        )
        #expect(Set(TwilioErrorCodes.rules.keys).subtracting(tested).isEmpty)
    }

    @Test("21610 marks the recipient for suppression")
    func unsubscribed() throws {
        let response = HTTPResponse(status: 400, body: Data(Self.error(21610).utf8))
        let error = try #require(provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure)
        #expect(error.detail == "suppressed: recipient replied STOP (21610)")
        #expect(SMSProvider.isSuppression(error))
        for row in Self.rows where !row.body.contains("21610") {
            if let other = provider.classify(.http(.response(row.response)), now: Fixtures.now).classifiedFailure {
                #expect(!SMSProvider.isSuppression(other), "\(row.testDescription)")
            }
        }
    }

    @Test("A full sender queue (21611) waits at least 10 minutes")
    func longDelay() throws {
        let response = HTTPResponse(status: 400, body: Data(Self.error(21611).utf8))
        let error = try #require(provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure)
        let wait = try #require(error.notBefore).timeIntervalSince(Fixtures.now)
        #expect(wait >= 600)
    }

    @Test("Retry-After on 429 is honoured")
    func retryAfter() throws {
        let response = HTTPResponse(status: 429, retryAfter: "7", body: Data(Self.error(20429, 429).utf8))
        let error = try #require(provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure)
        #expect(error.notBefore == Fixtures.now.addingTimeInterval(7))
    }

    @Test("Details name Twilio's code and message")
    func detail() throws {
        let response = HTTPResponse(status: 400, body: Data(Self.error(21211).utf8))
        let error = try #require(provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure)
        #expect(error.detail == "twilio HTTP 400 code 21211: Twilio says 21211")
    }

    @Test("Error details never carry the auth token", arguments: [400, 401, 404, 429, 500])
    func noLeaks(status: Int) {
        let basic = Data("\(Fixtures.twilioAccountSid):\(Fixtures.twilioAuthToken)".utf8).base64EncodedString()
        let bodies = [
            #"{"code":20003,"message":"Authenticate with token \#(Fixtures.twilioAuthToken)","status":401}"#,
            "bad credentials \(Fixtures.twilioAuthToken)",
            "Authorization: Basic \(basic)",
        ]
        for body in bodies {
            let response = HTTPResponse(status: status, body: Data(body.utf8))
            guard let error = provider.classify(.http(.response(response)), now: Fixtures.now).classifiedFailure
            else { continue }
            #expect(!error.detail.contains(Fixtures.twilioAuthToken), "\(error.detail)")
            #expect(!error.detail.contains(basic))
        }
        let failure = TransportFailure(kind: .connect, code: 7, requestSent: false, message: Fixtures.twilioAuthToken)
        #expect(
            provider.classify(.http(.failure(failure)), now: Fixtures.now).classifiedFailure?.detail.contains(
                Fixtures.twilioAuthToken
            ) == false
        )
        #expect(
            !String(describing: SMSConnection(accountSid: "AC1", authToken: Fixtures.twilioAuthToken)).contains(
                Fixtures.twilioAuthToken
            )
        )
    }
}

@Suite("SMS requests and delivery over real sockets")
struct SMSDeliveryTests {
    @Test("The request POSTs the form to the Messages resource with Basic auth")
    func request() throws {
        let provider = smsProvider(apiURL: "https://api.twilio.com/")
        let message = try provider.render(Fixtures.input("assigned", recipient: Fixtures.smsUser))
        let delivery = Fixtures.storedDelivery(of: message, to: Fixtures.smsUser, notifier: Fixtures.smsNotifier)
        guard case .http(let request) = try provider.request(for: delivery) else {
            Issue.record("expected an HTTP request")
            return
        }
        #expect(request.url == "https://api.twilio.com/2010-04-01/Accounts/\(Fixtures.twilioAccountSid)/Messages.json")
        #expect(request.method == "POST")
        #expect(request.body == message.body)
        #expect(request.headers.contains(HTTPHeader("Content-Type", "application/x-www-form-urlencoded")))
        let basic = Data("\(Fixtures.twilioAccountSid):\(Fixtures.twilioAuthToken)".utf8).base64EncodedString()
        #expect(request.headers.contains(HTTPHeader("Authorization", "Basic \(basic)")))
        #expect(provider.destination(for: Fixtures.smsUser) == Destination(key: "+15550001111", label: "+15550001111"))
    }

    @Test("Bad account settings fail before sending, naming the notifier, not the token")
    func badConfiguration() throws {
        let message = try smsProvider().render(Fixtures.input("assigned", recipient: Fixtures.smsUser))
        let delivery = Fixtures.storedDelivery(of: message, to: Fixtures.smsUser, notifier: Fixtures.smsNotifier)
        let badSid = SMSProvider(
            notifier: Fixtures.smsNotifier,
            connection: SMSConnection(accountSid: "AC1/../x", authToken: Fixtures.twilioAuthToken, from: "+15550001111")
        )
        #expect(throws: DeliveryError.self) { try badSid.request(for: delivery) }
        let noToken = SMSProvider(
            notifier: Fixtures.smsNotifier,
            connection: SMSConnection(accountSid: Fixtures.twilioAccountSid, authToken: "", from: "+15550001111")
        )
        #expect(throws: DeliveryError.self) { try noToken.request(for: delivery) }
    }

    func setUp(_ server: FakeVendorServer) throws -> (SMSProvider, Delivery) {
        let provider = smsProvider(apiURL: server.baseURL)
        let message = try provider.render(Fixtures.input("assigned", recipient: Fixtures.smsUser))
        return (provider, Fixtures.storedDelivery(of: message, to: Fixtures.smsUser, notifier: Fixtures.smsNotifier))
    }

    @Test("201 is delivered with the sid; Twilio sees Basic auth and the form fields")
    func success() async throws {
        let server = try await FakeVendorServer.start(script: [.json(201, SMSClassificationTests.created)])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try setUp(server)

        let outcome = try await SocketDelivery(provider: provider, transport: transport).attempt(delivery)

        #expect(outcome == .delivered(receipt: SMSClassificationTests.sid))
        let received = try #require(server.requests().first)
        #expect(received.method == "POST")
        #expect(received.path == "/2010-04-01/Accounts/\(Fixtures.twilioAccountSid)/Messages.json")
        #expect(received.header("Content-Type") == "application/x-www-form-urlencoded")
        let authorization = try #require(received.header("Authorization"))
        #expect(authorization.hasPrefix("Basic "))
        let credentials = try #require(Data(base64Encoded: String(authorization.dropFirst("Basic ".count))))
        #expect(
            String(decoding: credentials, as: UTF8.self) == "\(Fixtures.twilioAccountSid):\(Fixtures.twilioAuthToken)"
        )
        let form = try fields(received.body)
        #expect(form["To"] == "+15551230000")
        #expect(form["From"] == "+15550001111")
        #expect(form["Body"]?.hasSuffix(": https://tracker.example/acme/issues/9001/") == true)
        try await server.shutdown()
    }

    @Test("A 429 (never processed) is retried, then the message is accepted")
    func retryThenSuccess() async throws {
        let server = try await FakeVendorServer.start(script: [
            .status(
                429,
                headers: [("Retry-After", "3"), ("Content-Type", "application/json")],
                body: SMSClassificationTests.error(20429, 429)
            ),
            .json(201, SMSClassificationTests.created),
        ])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try setUp(server)
        let sender = SocketDelivery(provider: provider, transport: transport)

        let error = try #require(try await sender.attempt(delivery).classifiedFailure)
        #expect(error.isRetryable)
        #expect(error.reason == .rateLimited)
        #expect(!error.ambiguous)
        #expect(error.notBefore == Fixtures.now.addingTimeInterval(3))
        #expect(try await sender.attempt(delivery) == .delivered(receipt: SMSClassificationTests.sid))
        try await server.shutdown()
    }

    @Test("An unsubscribed recipient (21610) fails permanently and is marked for suppression")
    func permanentFailure() async throws {
        let server = try await FakeVendorServer.start(script: [.json(400, SMSClassificationTests.error(21610))])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (provider, delivery) = try setUp(server)

        let error = try #require(
            try await SocketDelivery(provider: provider, transport: transport).attempt(delivery).classifiedFailure
        )
        #expect(error.disposition == .permanent)
        #expect(SMSProvider.isSuppression(error))
        try await server.shutdown()
    }
}
