import Foundation
import HeraldCore

/// Pages through the PagerDuty Events API v2 from project routes (SPEC §7, §9; providers.md §2).
///
/// Recipients are routes whose address is a 32-character routing key. `escalating`, `regression` and
/// `issue_alert` trigger an alert and every `resolved*` key resolves it, both with the dedup key
/// `<organization>/<issue shortId>`; other keys do not page (see `action(for:)`). The routing key is a
/// credential: it never appears in labels, logs or error details.
public struct PagerDutyProvider: Provider {
    /// The notifier this provider serves.
    public let notifier: NotifierInfo
    private let connection: PagerDutyConnection
    private let renderer = PagerDutyRenderer()

    /// Creates the provider of one PagerDuty notifier.
    public init(notifier: NotifierInfo, connection: PagerDutyConnection) {
        self.notifier = notifier
        self.connection = connection
    }

    /// The pacing key is the routing key (PagerDuty limits each to about 120 events a minute); the label
    /// shows its first four characters only.
    public func destination(for recipient: Recipient) -> Destination {
        Destination(key: recipient.address, label: PagerDutyProvider.label(forRoutingKey: recipient.address))
    }

    /// Renders the trigger or resolve event. Throws `PagerDutyRenderError` for keys that do not page and
    /// for targets that are not routing keys.
    public func render(_ input: RenderInput) throws -> RenderedMessage {
        let (body, truncations) = try renderer.render(input)
        return RenderedMessage(body: body, contentType: PagerDutyProvider.contentType, truncations: truncations)
    }

    /// POSTs the stored event to the events URL; the routing key inside the body is the only credential.
    public func request(for delivery: Delivery) throws(DeliveryError) -> OutboundRequest {
        if let problem = AddressValidator.urlProblem(connection.eventsURL) {
            throw .permanent(.configuration, "pagerduty eventsURL of notifier \(notifier.name) \(problem)")
        }
        let contentType = delivery.contentType.isEmpty ? PagerDutyProvider.contentType : delivery.contentType
        return .http(
            HTTPRequest(
                url: connection.eventsURL,
                headers: [HTTPHeader("Content-Type", contentType)],
                body: delivery.payload
            )
        )
    }

    /// Classifies an Events API answer (providers.md §8); the receipt is the `dedup_key` PagerDuty returns.
    public func classify(_ result: AttemptResult, now: Date) -> DeliveryOutcome {
        switch result {
        case .http(.response(let response)):
            return PagerDutyResponseClassifier().classify(response, now: now)
        case .http(.failure(let failure)):
            var error = failure.deliveryError
            error.detail = PagerDutyResponseClassifier.maskRoutingKeys(error.detail)
            return .failed(ErrorDetail.sanitize(error))
        case .mail:
            return .failed(
                .permanent(.configuration, "an SMTP result reached the PagerDuty notifier \(notifier.name)")
            )
        }
    }

    /// The `dedup_key` every event about `event`'s issue carries: `<organization>/<issue shortId>`.
    public static func dedupKey(for event: Event) -> String {
        PagerDutyRenderer.dedupKey(for: event)
    }

    /// A routing key as logs may show it: its first four characters and `…`.
    public static func label(forRoutingKey key: String) -> String {
        String(key.prefix(4)) + "…"
    }

    /// `application/json`.
    static let contentType = "application/json"
}
