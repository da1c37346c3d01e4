import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// One SMTP result and its expected class.
struct MailRow: Sendable, CustomTestStringConvertible {
    var kind: TransportFailure.Kind
    var curlCode: Int
    var reply: Int?
    var requestSent: Bool
    var expected: Expectation

    init(
        _ kind: TransportFailure.Kind,
        _ curlCode: Int,
        reply: Int?,
        sent: Bool = false,
        _ expected: Expectation
    ) {
        self.kind = kind
        self.curlCode = curlCode
        self.reply = reply
        self.requestSent = sent
        self.expected = expected
    }

    var testDescription: String { "curl \(curlCode) reply \(reply.map(String.init) ?? "-") → \(expected)" }

    var failure: TransportFailure {
        TransportFailure(
            kind: kind,
            code: curlCode,
            requestSent: requestSent,
            message: "CURLE \(curlCode): failed (reply \(reply ?? 0))",
            responseCode: reply
        )
    }
}

/// The SMTP rows of providers.md §8, row by row (kinds as `TransportFailure+Curl` maps the CURLcodes).
@Suite("Email classification")
struct EmailClassificationTests {
    static let rows: [MailRow] =
        // SEND_ERROR / WEIRD_SERVER_REPLY / REMOTE_ACCESS_DENIED with a 4yz code, or 552 on RCPT: retry.
        [55, 8, 9].flatMap { code -> [MailRow] in
            [
                MailRow(.transfer, code, reply: 421, .retry(.rateLimited)),
                MailRow(.transfer, code, reply: 450, .retry(.serverError)),
                MailRow(.transfer, code, reply: 451, .retry(.serverError)),
                MailRow(.transfer, code, reply: 452, .retry(.rateLimited)),
                MailRow(.transfer, code, reply: 454, .retry(.serverError)),
                MailRow(.transfer, code, reply: 552, .retry(.serverError)),
            ]
        }
        // The same CURLcodes with a 5yz code: permanent.
        + [55, 8, 9].flatMap { code -> [MailRow] in
            [500, 501, 502, 503, 504].map { MailRow(.transfer, code, reply: $0, .permanent(.clientError)) }
                + [550, 551, 553].map { MailRow(.transfer, code, reply: $0, .permanent(.invalidPayload)) }
                + [MailRow(.transfer, code, reply: 554, sent: true, .permanent(.clientError))]
                + [MailRow(.transfer, code, reply: 530, .permanent(.authentication))]
        }
        // LOGIN_DENIED (530/534/535), USE_SSL_FAILED, PEER_FAILED_VERIFICATION: permanent configuration.
        + [530, 534, 535, 538].map { MailRow(.authentication, 67, reply: $0, .permanent(.authentication)) }
        + [
            MailRow(.authentication, 67, reply: nil, .permanent(.authentication)),
            // A temporary AUTH failure is still temporary.
            MailRow(.authentication, 67, reply: 454, .retry(.serverError)),
            MailRow(.tlsConfiguration, 64, reply: 220, .permanent(.configuration)),
            MailRow(.tlsConfiguration, 64, reply: nil, .permanent(.configuration)),
            MailRow(.tlsConfiguration, 60, reply: nil, .permanent(.configuration)),
            MailRow(.configuration, 3, reply: nil, .permanent(.configuration)),
            MailRow(.configuration, 1, reply: nil, .permanent(.configuration)),
        ]
        // Response 0 with a transport CURLcode: retry, ambiguous once the body was sent.
        + [
            MailRow(.connect, 7, reply: nil, .retry(.connection)),
            MailRow(.connect, 6, reply: nil, .retry(.connection)),
            MailRow(.tlsHandshake, 35, reply: nil, .retry(.connection)),
            MailRow(.timeout, 28, reply: nil, .retry(.timeout)),
            MailRow(.timeout, 28, reply: nil, sent: true, .retry(.timeout, ambiguous: true)),
            MailRow(.transfer, 56, reply: nil, sent: true, .retry(.connection, ambiguous: true)),
            MailRow(.transfer, 52, reply: nil, sent: true, .retry(.connection, ambiguous: true)),
            MailRow(.connect, 7, reply: 0, .retry(.connection)),
            MailRow(.aborted, 42, reply: nil, .retry(.connection)),
            // A dropped connection after RCPT was accepted: the reply code is a 2yz, the transport decides.
            MailRow(.transfer, 55, reply: 250, sent: true, .retry(.connection, ambiguous: true)),
            // Anything unknown is permanent, never looped on.
            MailRow(.unknown, 99, reply: nil, .permanent(.clientError)),
        ]

    @Test("SMTP result table", arguments: rows)
    func table(row: MailRow) {
        let outcome = EmailFixtures.provider.classify(.mail(.failure(row.failure)), now: Fixtures.now)
        let status = row.reply.flatMap { $0 > 0 ? $0 : nil }
        row.expected.verify(outcome, status: status)
        if case .failed(let error) = outcome {
            #expect(error.detail.hasPrefix("smtp"))
        }
    }

    @Test("Accepted is delivered; with the delivery, the receipt is the Message-ID")
    func accepted() throws {
        let outcome = EmailFixtures.provider.classify(.mail(.accepted(replyCode: 250)), now: Fixtures.now)
        #expect(outcome == .delivered(receipt: nil))
        let payload = try EmailFixtures.provider.render(Fixtures.input("resolved", recipient: EmailFixtures.ann)).body
        let delivery = EmailFixtures.delivery(payload: payload)
        let withDelivery = EmailFixtures.provider.classify(
            .mail(.accepted(replyCode: 250)),
            for: delivery,
            now: Fixtures.now
        )
        let id = try #require(try ParsedMail(payload).header("Message-ID"))
        #expect(withDelivery == .delivered(receipt: id))
        #expect(EmailFixtures.provider.messageID(for: delivery) == id)
    }

    @Test("An HTTP result on the email notifier is a configuration error")
    func httpResult() {
        let outcome = EmailFixtures.provider.classify(.http(.response(HTTPResponse(status: 200))), now: Fixtures.now)
        Expectation.permanent(.configuration).verify(outcome, status: nil)
    }

    @Test("The relay is the destination, labelled scheme://host")
    func destination() {
        let destination = EmailFixtures.provider.destination(for: EmailFixtures.ann)
        #expect(destination == Destination(key: "smtps://smtp.example.com:465", label: "smtps://smtp.example.com"))
        #expect(EmailFixtures.provider.destination(for: EmailFixtures.bob) == destination)
        let withUser = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailConnection(url: "smtp://user:pw@relay.example:587/herald.example", from: "a@b.example")
        )
        #expect(
            withUser.destination(for: EmailFixtures.ann)
                == Destination(key: "smtp://relay.example:587", label: "smtp://relay.example")
        )
    }

    @Test("Error details never hold the password, the relay's user info or the message")
    func leaks() throws {
        let secretURL = "smtps://herald:\(EmailFixtures.password)@smtp.example.com:465"
        let provider = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailConnection(
                url: secretURL,
                username: "herald",
                password: EmailFixtures.password,
                from: EmailFixtures.from
            )
        )
        let payload = try provider.render(Fixtures.input("note", recipient: EmailFixtures.ann)).body
        let messageText = String(decoding: payload, as: UTF8.self)
        let noteText = "Looks like <script> & friends again"
        let messages = [
            "login denied for herald with password \(EmailFixtures.password)",
            "AUTH PLAIN failed at \(secretURL)",
            "server said: \(messageText)",
            "DATA rejected: \(noteText)",
        ]
        for message in messages {
            for (kind, code, reply) in [
                (TransportFailure.Kind.authentication, 67, 535), (.transfer, 55, 550), (.transfer, 8, 451),
                (.timeout, 28, 0), (.tlsConfiguration, 60, 0), (.unknown, 99, 0),
            ] {
                let failure = TransportFailure(
                    kind: kind,
                    code: code,
                    requestSent: true,
                    message: message,
                    responseCode: reply
                )
                guard case .failed(let error) = provider.classify(.mail(.failure(failure)), now: Fixtures.now) else {
                    Issue.record("expected a failure")
                    continue
                }
                #expect(!error.detail.contains(EmailFixtures.password), "\(error.detail)")
                #expect(!error.summary.contains(EmailFixtures.password))
                #expect(!error.detail.contains(messageText))
                #expect(error.detail.count <= 200)
            }
        }
        #expect(!String(describing: EmailFixtures.connection).contains(EmailFixtures.password))

        // A misconfigured notifier's request error names the problem, not the secrets.
        let broken = EmailProvider(
            notifier: EmailFixtures.notifier,
            connection: EmailConnection(
                url: "http://\(EmailFixtures.password)@x",
                password: EmailFixtures.password,
                from: "x"
            )
        )
        do {
            _ = try broken.request(for: EmailFixtures.delivery(payload: payload))
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.reason == .configuration)
            #expect(!error.detail.contains(EmailFixtures.password))
        }
    }
}
