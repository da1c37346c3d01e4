import Foundation
import HeraldCore

/// Delivers notifications to Slack through `chat.postMessage` (channel or user ids) or incoming webhooks
/// (`https://` addresses), as Block Kit messages (SPEC §9, providers.md §1).
public struct SlackProvider: Provider {
    /// The notifier this provider serves.
    public let notifier: NotifierInfo
    private let connection: SlackConnection
    private let renderer = SlackRenderer()
    private let templates: TemplateLibrary?

    /// Creates the provider of one Slack notifier; `templates` supplies the text of custom keys (SPEC §3.3).
    public init(notifier: NotifierInfo, connection: SlackConnection, templates: TemplateLibrary? = nil) {
        self.notifier = notifier
        self.connection = connection
        self.templates = templates
    }

    /// The pacing key is the channel or user id, or the hook URL. Hook URLs are credentials, so their
    /// label keeps scheme and host only.
    public func destination(for recipient: Recipient) -> Destination {
        let address = recipient.address
        let label = SlackAddress.isWebhook(address) ? Redaction.redactedURL(address) : address
        return Destination(key: address, label: label)
    }

    /// Renders the Block Kit message; webhook messages omit `channel`.
    public func render(_ input: RenderInput) throws -> RenderedMessage {
        var content = NeutralContent(input)
        let warnings = content.applyTemplate(templates, channel: .slack, input: input)
        let (message, truncations) = renderer.render(content, address: input.recipient.address)
        return RenderedMessage(
            body: message.json,
            contentType: SlackProvider.contentType,
            truncations: warnings + truncations
        )
    }

    /// POSTs the stored payload to the hook URL, or to `{apiURL}/chat.postMessage` with the bot token.
    public func request(for delivery: Delivery) throws(DeliveryError) -> OutboundRequest {
        let address = delivery.recipient.address
        let contentType = delivery.contentType.isEmpty ? SlackProvider.contentType : delivery.contentType
        if SlackAddress.isWebhook(address) {
            return .http(
                HTTPRequest(
                    url: address,
                    headers: [HTTPHeader("Content-Type", contentType)],
                    body: delivery.payload
                )
            )
        }
        guard let token = connection.token, !token.isEmpty else {
            throw .permanent(
                .configuration,
                "no Slack token configured for notifier \(notifier.name) (id \(notifier.id))"
            )
        }
        return .http(
            HTTPRequest(
                url: postMessageURL,
                headers: [
                    HTTPHeader("Content-Type", contentType),
                    HTTPHeader("Authorization", "Bearer \(token)"),
                ],
                body: delivery.payload
            )
        )
    }

    /// Classifies a Slack answer (providers.md §8); details never carry the token or a hook URL.
    public func classify(_ result: AttemptResult, for delivery: Delivery, now: Date) -> DeliveryOutcome {
        if case .http(.response(let response)) = result {
            let webhook = SlackAddress.isWebhook(delivery.recipient.address)
            return SlackResponseClassifier(secrets: secrets).classify(response, webhook: webhook, now: now)
        }
        return classify(result, now: now)
    }

    public func classify(_ result: AttemptResult, now: Date) -> DeliveryOutcome {
        switch result {
        case .http(.response(let response)):
            return SlackResponseClassifier(secrets: secrets).classify(response, now: now)
        case .http(.failure(let failure)):
            return .failed(ErrorDetail.sanitize(failure.deliveryError, secrets: secrets, maskPaths: true))
        case .mail:
            return .failed(.permanent(.configuration, "an SMTP result reached the Slack notifier \(notifier.name)"))
        }
    }

    /// `application/json; charset=utf-8`: without the charset Slack answers with a `missing_charset` warning.
    static let contentType = "application/json; charset=utf-8"

    private var postMessageURL: String {
        var base = connection.apiURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat.postMessage"
    }

    private var secrets: [String] {
        [connection.token].compactMap { $0 }
    }
}
