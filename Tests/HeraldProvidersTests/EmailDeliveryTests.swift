import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

@testable import HeraldProviders

/// Email end to end over real sockets: render, build the request, send with libcurl to the fake SMTP
/// server, classify (STYLE: email against the fake SMTP server, no mocks of libcurl).
@Suite("Email delivery")
struct EmailDeliveryTests {
    static func provider(for server: FakeSMTPServer, password: String? = nil) -> EmailProvider {
        EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailConnection(
                url: server.url,
                username: password == nil ? nil : "herald",
                password: password,
                from: "Herald Alerts <bounces@herald.example>",
                allowInsecure: true
            )
        )
    }

    /// Renders `key` for Ann, sends it and returns the classified outcome with the stored payload.
    static func send(
        _ key: String,
        with provider: EmailProvider,
        transport: CurlTransport
    ) async throws -> (outcome: DeliveryOutcome, payload: Data) {
        let payload = try provider.render(Fixtures.input(key, recipient: EmailFixtures.ann)).body
        let delivery = EmailFixtures.delivery(payload: payload, id: 4242)
        guard case .mail(var message) = try provider.request(for: delivery) else {
            Issue.record("expected a mail request")
            return (.delivered(receipt: nil), payload)
        }
        message.totalTimeout = 10
        let result = await transport.send(message)
        return (provider.classify(.mail(result), for: delivery, now: Fixtures.now), payload)
    }

    @Test("A rendered email reaches the relay intact, with its envelope and delivery id")
    func delivers() async throws {
        let server = try await FakeSMTPServer.start(username: "herald", password: EmailFixtures.password)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let provider = Self.provider(for: server, password: EmailFixtures.password)

        let (outcome, payload) = try await Self.send("assigned", with: provider, transport: transport)

        let received = try #require(server.messages().first)
        #expect(received.envelopeFrom == "bounces@herald.example")
        #expect(received.envelopeTo == ["ann@example.com"])
        #expect(received.data == Data("X-Herald-Delivery-Id: 4242\r\n".utf8) + payload)
        let mail = try ParsedMail(received.data)
        #expect(mail.header("X-Herald-Delivery-Id") == "4242")
        #expect(mail.header("X-Herald-Event-Id") == "evt_01JDQ4ZC7R0000000000000000")
        #expect(mail.parts.count == 2)
        #expect(mail.textPart?.text.contains("TypeError: x is undefined") == true)
        #expect(mail.htmlPart?.text.contains("TypeError: x is undefined") == true)
        let messageID = try #require(mail.header("Message-ID"))
        #expect(outcome == .delivered(receipt: messageID))
        #expect(server.commands().contains { $0.hasPrefix("AUTH") })
        try await server.shutdown()
    }

    @Test("Every key's email goes through and parses back", arguments: Fixtures.goldenKeys)
    func everyKey(key: String) async throws {
        let server = try await FakeSMTPServer.start()
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let (outcome, _) = try await Self.send(key, with: Self.provider(for: server), transport: transport)

        guard case .delivered = outcome else {
            Issue.record("expected delivered, got \(outcome)")
            return
        }
        let received = try #require(server.messages().first)
        #expect(try ParsedMail(received.data).parts.count == 2)
        try await server.shutdown()
    }

    @Test("451 on RCPT is retried")
    func temporaryRecipientFailure() async throws {
        let server = try await FakeSMTPServer.start(replies: ["RCPT": [451]])
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let (outcome, _) = try await Self.send("resolved", with: Self.provider(for: server), transport: transport)

        Expectation.retry(.serverError).verify(outcome, status: 451)
        #expect(server.messages().isEmpty)
        try await server.shutdown()
    }

    @Test("550 on RCPT is permanent")
    func unknownMailbox() async throws {
        let server = try await FakeSMTPServer.start(replies: ["RCPT": [550]])
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let (outcome, _) = try await Self.send("resolved", with: Self.provider(for: server), transport: transport)

        Expectation.permanent(.invalidPayload).verify(outcome, status: 550)
        try await server.shutdown()
    }

    @Test("554 after the data is permanent")
    func rejectedAfterData() async throws {
        let server = try await FakeSMTPServer.start(replies: ["EOM": [554]])
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let (outcome, _) = try await Self.send("resolved", with: Self.provider(for: server), transport: transport)

        Expectation.permanent(.clientError).verify(outcome, status: 554)
        try await server.shutdown()
    }

    @Test("A refused login is a permanent authentication failure that does not repeat the password")
    func authenticationFailure() async throws {
        let server = try await FakeSMTPServer.start(username: "herald", password: "the-right-one")
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let provider = Self.provider(for: server, password: EmailFixtures.password)

        let (outcome, _) = try await Self.send("resolved", with: provider, transport: transport)

        Expectation.permanent(.authentication).verify(outcome, status: 535)
        if case .failed(let error) = outcome {
            #expect(!error.detail.contains(EmailFixtures.password))
        }
        #expect(server.messages().isEmpty)
        try await server.shutdown()
    }

    @Test("Plain smtp:// without allowInsecure requires STARTTLS, which the fake relay does not offer")
    func startTLSRequired() async throws {
        let server = try await FakeSMTPServer.start()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let provider = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailConnection(url: server.url, from: "bounces@herald.example")
        )

        let (outcome, _) = try await Self.send("resolved", with: provider, transport: transport)

        guard case .failed(let error) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(error.disposition == .permanent)
        #expect(error.reason == .configuration)
        #expect(server.messages().isEmpty)
        try await server.shutdown()
    }

    @Test("Addresses that could inject SMTP commands are refused before libcurl")
    func envelopeValidation() throws {
        let payload = try EmailFixtures.provider.render(Fixtures.input("resolved", recipient: EmailFixtures.ann)).body
        for address in ["ann@example.com\r\nRCPT TO:<evil@x.example>", "ann@example.com>", "", "Ann <ann@example.com>"]
        {
            let recipient = Recipient(kind: .address, address: address)
            do {
                _ = try EmailFixtures.provider.request(
                    for: EmailFixtures.delivery(recipient: recipient, payload: payload)
                )
                Issue.record("accepted \(address.debugDescription)")
            } catch {
                #expect(error.disposition == .permanent)
                #expect(error.reason == .invalidPayload)
            }
        }
        for from in ["bounces@herald.example\r\nRCPT TO:<evil@x.example>", "Herald <not an address>"] {
            let provider = EmailProvider(
                notifier: EmailFixtures.notifier,
                connection: EmailConnection(url: EmailFixtures.relayURL, from: from)
            )
            do {
                _ = try provider.request(for: EmailFixtures.delivery(payload: payload))
                Issue.record("accepted sender \(from.debugDescription)")
            } catch {
                #expect(error.reason == .configuration)
            }
        }
    }

    @Test("The request carries the connection and the bare sender address")
    func request() throws {
        let payload = try EmailFixtures.provider.render(Fixtures.input("resolved", recipient: EmailFixtures.ann)).body
        guard
            case .mail(let message) = try EmailFixtures.provider.request(for: EmailFixtures.delivery(payload: payload))
        else {
            Issue.record("expected a mail request")
            return
        }
        #expect(message.relayURL == EmailFixtures.relayURL)
        #expect(message.username == "herald")
        #expect(message.password == EmailFixtures.password)
        #expect(message.allowInsecure == false)
        #expect(message.envelopeFrom == "notify@herald.example")
        #expect(message.envelopeTo == ["ann@example.com"])
        #expect(message.message.starts(with: Data("X-Herald-Delivery-Id: 77\r\nDate: ".utf8)))
    }
}
