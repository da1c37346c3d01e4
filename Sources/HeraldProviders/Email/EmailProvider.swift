import Foundation
import HeraldCore

/// Delivers notifications as email through an SMTP relay (SPEC §9, §10; providers.md §5).
///
/// Rendering builds the whole RFC 5322 message, which is stored with the delivery; sending adds the
/// `X-Herald-Delivery-Id` header and the envelope, one recipient per transaction. Custom keys take their
/// body from `config/templates/<key>/email.mustache` when it exists.
public struct EmailProvider: Provider {
    /// The notifier this provider serves.
    public let notifier: NotifierInfo
    private let connection: EmailConnection
    private let templates: TemplateLibrary?
    private let renderer: EmailRenderer

    /// The content type of rendered emails.
    public static let contentType = "message/rfc822"

    /// Creates the provider of one email notifier; `templates` supplies the text of custom keys (SPEC §3.3).
    public init(notifier: NotifierInfo, connection: EmailConnection, templates: TemplateLibrary? = nil) {
        self.notifier = notifier
        self.connection = connection
        self.templates = templates
        renderer = EmailRenderer(from: EmailAddress(parsing: connection.from))
    }

    /// Every email of a notifier goes through its relay: the relay is the pacing key (`smtps://host:465`),
    /// labelled `scheme://host`. The recipient does not matter.
    public func destination(for recipient: Recipient) -> Destination {
        let relay = SMTPRelay(url: connection.url)
        return Destination(key: "\(relay.scheme)://\(relay.authority)", label: "\(relay.scheme)://\(relay.host)")
    }

    /// Renders the message for one recipient; throws `DeliveryError` (invalid payload) when the recipient's
    /// address is not a plain email address, as no header or envelope could carry it safely.
    public func render(_ input: RenderInput) throws -> RenderedMessage {
        if let problem = AddressValidator.emailProblem(input.recipient.address) {
            throw DeliveryError.permanent(.invalidPayload, "email recipient \(problem)")
        }
        var content = NeutralContent(input)
        let warnings = content.applyTemplate(templates, channel: .email, input: input)
        let (message, truncations) = renderer.render(content, input: input)
        return RenderedMessage(body: message.data, contentType: Self.contentType, truncations: warnings + truncations)
    }

    /// The stored message with `X-Herald-Delivery-Id` on top, addressed from the sender's address to the
    /// recipient's. Addresses are validated here, before libcurl (which would pass CR or LF to the relay).
    public func request(for delivery: Delivery) throws(DeliveryError) -> OutboundRequest {
        if let problem = connection.problem {
            throw .permanent(
                .configuration,
                "email notifier \(notifier.name) (id \(notifier.id)) is misconfigured: \(problem)"
            )
        }
        let recipient = delivery.recipient.address
        if MailHeader.containsLineBreak(recipient) || AddressValidator.emailProblem(recipient) != nil {
            throw .permanent(.invalidPayload, "email recipient address is not valid")
        }
        guard !delivery.payload.isEmpty else {
            throw .permanent(.invalidPayload, "the stored email is empty")
        }
        let header = MailHeader.structured("X-Herald-Delivery-Id", String(delivery.id))
        return .mail(
            MailMessage(
                relayURL: connection.url,
                username: connection.username,
                password: connection.password,
                allowInsecure: connection.allowInsecure,
                envelopeFrom: EmailAddress(parsing: connection.from).address,
                envelopeTo: [recipient],
                leadingHeaders: Data(header.wireText.utf8),
                message: delivery.payload
            )
        )
    }

    /// Classifies the relay's answer for `delivery`; an accepted message's receipt is its `Message-ID`.
    public func classify(_ result: AttemptResult, for delivery: Delivery, now: Date) -> DeliveryOutcome {
        if case .mail(.accepted) = result {
            return .delivered(receipt: messageID(for: delivery))
        }
        return classify(result, now: now)
    }

    /// Classifies the relay's answer (providers.md §8, SMTP rows; see `SMTPReplyRules`). The detail never
    /// holds the password or any of the message. Without the delivery, an accepted message has no receipt.
    public func classify(_ result: AttemptResult, now: Date) -> DeliveryOutcome {
        switch result {
        case .mail(.accepted):
            return .delivered(receipt: nil)
        case .mail(.failure(let failure)):
            return .failed(SMTPReplyRules.classify(failure, secrets: secrets))
        case .http:
            return .failed(.permanent(.configuration, "an HTTP result reached the email notifier \(notifier.name)"))
        }
    }

    /// The `Message-ID` of a delivery's message (`<…@domain>`): the one in the stored message, which is the
    /// same on every attempt and every render.
    public func messageID(for delivery: Delivery) -> String {
        if let stored = EmailMessage.headerValue("Message-ID", in: delivery.payload) { return stored }
        return EmailMessage.messageID(
            eventId: delivery.eventId,
            recipientAddress: delivery.recipient.address,
            from: renderer.from
        )
    }

    private var secrets: [String] {
        [connection.password, connection.url].compactMap { $0 }
    }
}
