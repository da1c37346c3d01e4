import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

@Suite("CurlTransport over SMTP")
struct CurlMailTransportTests {
    /// CRLF line endings, and a line that starts with a dot (the client must stuff it, the server unstuff it).
    static let message = Data(
        [
            "Date: Tue, 03 Sep 2024 10:15:00 +0000",
            "From: Herald <alerts@notify.example>",
            "To: ops@example.org",
            "Subject: Disk full",
            "Message-ID: <7f3c2b0e@notify.example>",
            "X-Herald-Event-Id: ev_1",
            "",
            "Disk full on db-1.",
            ".hidden line starting with a dot",
            "..two dots",
            "",
        ].joined(separator: "\r\n").utf8
    )

    static func mail(
        to server: FakeSMTPServer,
        username: String? = "herald",
        password: String? = "s3cret!",
        from: String = "bounces@notify.example",
        to: [String] = ["ops@example.org"]
    ) -> MailMessage {
        MailMessage(
            relayURL: server.url,
            username: username,
            password: password,
            allowInsecure: true,
            envelopeFrom: from,
            envelopeTo: to,
            message: message,
            totalTimeout: 10
        )
    }

    @Test func deliversTheMessageIntactWithItsEnvelope() async throws {
        let server = try await FakeSMTPServer.start(username: "herald", password: "s3cret!")
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(Self.mail(to: server, to: ["ops@example.org", "dev@example.org"]))

        #expect(result.replyCode == 250)
        let received = try #require(server.messages().first)
        #expect(received.envelopeFrom == "bounces@notify.example")
        #expect(received.envelopeTo == ["ops@example.org", "dev@example.org"])
        #expect(received.data == Self.message)
        #expect(server.commands().contains("AUTH PLAIN") || server.commands().contains("AUTH LOGIN"))
        try await server.shutdown()
    }

    @Test func leadingHeadersGoOutBeforeTheBody() async throws {
        let server = try await FakeSMTPServer.start(username: "herald", password: "s3cret!")
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var mail = Self.mail(to: server)
        mail.leadingHeaders = Data("X-Herald-Delivery-Id: 42\r\n".utf8)

        let result = await transport.send(mail)

        #expect(result.replyCode == 250)
        let received = try #require(server.messages().first)
        #expect(received.data == Data("X-Herald-Delivery-Id: 42\r\n".utf8) + Self.message)
        #expect(mail.message == received.data)
        try await server.shutdown()
    }

    @Test func sendsWithoutCredentialsWhenNoneAreGiven() async throws {
        let server = try await FakeSMTPServer.start()
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(Self.mail(to: server, username: nil, password: nil))

        #expect(result.replyCode == 250)
        #expect(server.messages().count == 1)
        try await server.shutdown()
    }

    @Test func wrongPasswordIsAnAuthenticationFailureWith535() async throws {
        let server = try await FakeSMTPServer.start(username: "herald", password: "right")
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(Self.mail(to: server, password: "wrong-password"))

        let failure = try #require(result.failure)
        #expect(failure.kind == .authentication)
        #expect(failure.code == 67)
        #expect(failure.responseCode == 535)
        #expect(!failure.message.contains("wrong-password"))
        #expect(server.messages().isEmpty)
        try await server.shutdown()
    }

    @Test func temporaryRecipientFailureKeepsTheReplyCode() async throws {
        let server = try await FakeSMTPServer.start(replies: ["RCPT": [451]])
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(Self.mail(to: server, username: nil, password: nil))

        let failure = try #require(result.failure)
        #expect(failure.responseCode == 451)
        #expect(failure.kind == .transfer)
        #expect(server.messages().isEmpty)
        try await server.shutdown()
    }

    @Test func rejectionAfterDataKeepsTheReplyCode() async throws {
        let server = try await FakeSMTPServer.start(replies: ["EOM": [554]])
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(Self.mail(to: server, username: nil, password: nil))

        let failure = try #require(result.failure)
        #expect(failure.responseCode == 554)
        #expect(failure.requestSent)
        try await server.shutdown()
    }

    @Test func plaintextRelayIsRefusedUnlessInsecureIsAllowed() async throws {
        let server = try await FakeSMTPServer.start()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var message = Self.mail(to: server, username: nil, password: nil)
        message.allowInsecure = false

        let result = await transport.send(message)

        #expect(result.failure?.kind == .tlsConfiguration)
        #expect(server.messages().isEmpty)
        try await server.shutdown()
    }

    @Test(arguments: [
        ("bounces@notify.example\r\nRCPT TO:<victim@example.org>", ["ops@example.org"]),
        ("bounces@notify.example", ["ops@example.org\nDATA"]),
        ("bounces@notify.example", ["ops@example.org\r"]),
    ])
    func lineBreaksInTheEnvelopeAreRefusedBeforeConnecting(from: String, to: [String]) async throws {
        let server = try await FakeSMTPServer.start()
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(Self.mail(to: server, username: nil, password: nil, from: from, to: to))

        #expect(result.failure?.kind == .configuration)
        #expect(result.failure?.requestSent == false)
        #expect(server.connectionCount == 0)
        #expect(server.messages().isEmpty)
        try await server.shutdown()
    }
}

extension MailResult {
    var replyCode: Int? {
        if case .accepted(let code) = self { return code }
        return nil
    }

    var failure: TransportFailure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
