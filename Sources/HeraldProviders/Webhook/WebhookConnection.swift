/// How a generic webhook notifier signs its requests (SPEC §14 `notifiers[].webhook`).
public struct WebhookConnection: Sendable {
    /// The HMAC-SHA256 key for `X-Herald-Signature`; a secret. Nil sends unsigned requests.
    public var signingSecret: String?

    /// Creates a connection.
    public init(signingSecret: String? = nil) {
        self.signingSecret = signingSecret
    }
}

extension WebhookConnection: CustomStringConvertible {
    /// Describes the connection without the secret.
    public var description: String {
        "WebhookConnection(signingSecret: \(signingSecret == nil ? "none" : "[REDACTED]"))"
    }
}
