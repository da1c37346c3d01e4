import Foundation
import HeraldCore
import HeraldProviders
import Testing

/// The receipt of a delivered email is the Message-ID stored in its rendered message.
@Suite("Email receipt lookup")
struct EmailHeaderLookupTests {
    let provider = EmailProvider(
        notifier: NotifierInfo(id: 1, name: "mail", channel: .email),
        connection: EmailConnection(url: "smtp://127.0.0.1:1", from: "Herald <notify@example.com>")
    )

    func delivery(_ message: String) -> Delivery {
        EmailFixtures.delivery(payload: Data(message.utf8))
    }

    @Test func readsTheHeaderCaseInsensitivelyWithFoldedLines() {
        let message = "From: a@b.c\r\nmessage-id:\r\n <abc@example.com>\r\nSubject: x\r\n\r\nMessage-ID: <body@x>\r\n"
        #expect(provider.messageID(for: delivery(message)) == "<abc@example.com>")
    }

    @Test func ignoresTheBodyAndFallsBackToTheDerivedID() {
        let message = "From: a@b.c\r\nSubject: x\r\n\r\nMessage-ID: <body@x>\r\n"
        let derived = provider.messageID(for: delivery(message))
        #expect(derived != "<body@x>")
        #expect(derived.hasPrefix("<") && derived.hasSuffix(">"))
        #expect(provider.messageID(for: delivery(message)) == derived)
    }
}
