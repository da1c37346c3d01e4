import Foundation
import HeraldCore

/// Delivers notifications as signed JSON POSTs to arbitrary HTTPS endpoints (SPEC §9 `webhook`).
public struct WebhookProvider: Provider {
    /// The notifier this provider serves.
    public let notifier: NotifierInfo
    private let connection: WebhookConnection
    private let templates: TemplateLibrary?

    /// Creates the provider of one webhook notifier; `templates` supplies `rendered.text` of custom keys.
    public init(notifier: NotifierInfo, connection: WebhookConnection, templates: TemplateLibrary? = nil) {
        self.notifier = notifier
        self.connection = connection
        self.templates = templates
    }

    /// The pacing key is the URL; its label keeps scheme and host only, as the path may be a credential.
    public func destination(for recipient: Recipient) -> Destination {
        Destination(key: recipient.address, label: Redaction.redactedURL(recipient.address))
    }

    /// Renders `{event, recipient, rendered}` as deterministic JSON.
    public func render(_ input: RenderInput) throws -> RenderedMessage {
        var content = NeutralContent(input)
        let warnings = content.applyTemplate(templates, channel: .webhook, input: input)
        var text = content.plainDescription
        if text.isEmpty { text = content.title }
        let payload = WebhookPayload(
            event: .init(input.event),
            recipient: .init(input.recipient, reason: input.reason),
            rendered: .init(title: content.title, text: text, url: content.url)
        )
        return RenderedMessage(
            body: try PayloadJSON.encode(payload),
            contentType: WebhookProvider.contentType,
            truncations: warnings
        )
    }

    /// POSTs the stored payload to the recipient's URL, signed when a secret is configured.
    public func request(for delivery: Delivery) throws(DeliveryError) -> OutboundRequest {
        let contentType = delivery.contentType.isEmpty ? WebhookProvider.contentType : delivery.contentType
        var headers = [HTTPHeader("Content-Type", contentType)]
        if let secret = connection.signingSecret, !secret.isEmpty {
            headers.append(
                HTTPHeader(WebhookSignature.headerName, WebhookSignature.value(for: delivery.payload, secret: secret))
            )
        }
        return .http(HTTPRequest(url: delivery.recipient.address, headers: headers, body: delivery.payload))
    }

    /// 2xx delivered; 408, 429 and 5xx retried (honouring `Retry-After`); 3xx, 401, 403, 404 and 410
    /// permanent configuration errors; other 4xx permanent client errors.
    public func classify(_ result: AttemptResult, now: Date) -> DeliveryOutcome {
        switch result {
        case .http(.response(let response)):
            return HTTPStatusRules.classify(response, now: now, detail: detail(for: response))
        case .http(.failure(let failure)):
            return .failed(ErrorDetail.sanitize(failure.deliveryError, secrets: secrets, maskPaths: true))
        case .mail:
            return .failed(.permanent(.configuration, "an SMTP result reached the webhook notifier \(notifier.name)"))
        }
    }

    /// `application/json`.
    static let contentType = "application/json"

    /// `webhook HTTP 404: <body excerpt>`, with anything that could be the secret URL path masked.
    private func detail(for response: HTTPResponse) -> String {
        let body = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = "webhook HTTP \(response.status)" + (body.isEmpty ? "" : ": " + body)
        return ErrorDetail.sanitize(text, secrets: secrets, maskPaths: true)
    }

    private var secrets: [String] {
        [connection.signingSecret].compactMap { $0 }
    }
}
