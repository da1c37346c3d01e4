import Foundation
import HeraldCore

/// Delivers notifications to Microsoft Teams through Workflows (Power Automate) webhooks, as Adaptive
/// Cards (SPEC §9, providers.md §3).
///
/// The recipient address is the Workflows trigger URL. The whole URL, `sig=` included, is a credential: it
/// never appears in labels, logs or error details.
public struct MSTeamsProvider: Provider {
    /// The notifier this provider serves.
    public let notifier: NotifierInfo
    private let connection: MSTeamsConnection
    private let templates: TemplateLibrary?
    private let renderer = MSTeamsRenderer()

    /// Creates the provider of one Teams notifier; `templates` supplies the text of custom keys (SPEC §3.3).
    public init(notifier: NotifierInfo, connection: MSTeamsConnection, templates: TemplateLibrary? = nil) {
        self.notifier = notifier
        self.connection = connection
        self.templates = templates
    }

    /// The pacing key is the Workflows URL; its label keeps scheme and host only.
    public func destination(for recipient: Recipient) -> Destination {
        Destination(key: recipient.address, label: Redaction.redactedURL(recipient.address))
    }

    /// Renders the Workflows message with one Adaptive Card, at most 20 KB.
    public func render(_ input: RenderInput) throws -> RenderedMessage {
        var content = NeutralContent(input)
        let warnings = content.applyTemplate(templates, channel: .msteams, input: input)
        let (body, truncations) = try renderer.render(content, issueScoped: input.event.issue != nil)
        return RenderedMessage(
            body: body,
            contentType: MSTeamsProvider.contentType,
            truncations: warnings + truncations
        )
    }

    /// POSTs the stored card to the Workflows URL. Retired connector URLs are refused unless the notifier
    /// allows them.
    public func request(for delivery: Delivery) throws(DeliveryError) -> OutboundRequest {
        let address = delivery.recipient.address
        if let problem = AddressValidator.urlProblem(address) {
            throw .permanent(.configuration, "msteams target \(problem)")
        }
        if MSTeamsAddress.isLegacyConnector(address), !connection.allowLegacyConnectors {
            throw .permanent(
                .configuration,
                "msteams target \(Redaction.redactedURL(address)) is a retired Office 365 connector; "
                    + "create a Workflows webhook or set allowLegacyConnectors on notifier \(notifier.name)"
            )
        }
        let contentType = delivery.contentType.isEmpty ? MSTeamsProvider.contentType : delivery.contentType
        return .http(
            HTTPRequest(url: address, headers: [HTTPHeader("Content-Type", contentType)], body: delivery.payload)
        )
    }

    /// Classifies a Teams answer (providers.md §8); details never carry the target URL.
    public func classify(_ result: AttemptResult, now: Date) -> DeliveryOutcome {
        switch result {
        case .http(.response(let response)):
            return MSTeamsResponseClassifier().classify(response, now: now)
        case .http(.failure(let failure)):
            var error = failure.deliveryError
            error.detail = MSTeamsResponseClassifier.maskOpaqueTokens(
                MSTeamsResponseClassifier.maskSignatures(error.detail)
            )
            return .failed(ErrorDetail.sanitize(error, maskPaths: true))
        case .mail:
            return .failed(.permanent(.configuration, "an SMTP result reached the Teams notifier \(notifier.name)"))
        }
    }

    /// Whether `url` is a retired Office 365 connector URL (warn when one is configured).
    public static func isLegacyConnector(_ url: String) -> Bool {
        MSTeamsAddress.isLegacyConnector(url)
    }

    /// `application/json`.
    static let contentType = "application/json"
}
