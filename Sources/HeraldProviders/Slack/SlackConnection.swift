/// How a Slack notifier reaches Slack (SPEC §14 `notifiers[].slack`).
public struct SlackConnection: Sendable {
    /// The Web API base: `chat.postMessage` is POSTed to `{apiURL}/chat.postMessage`.
    public var apiURL: String
    /// The bot token (`xoxb-…`); a secret. Only Web API deliveries need it: incoming webhooks carry their
    /// credential in the URL.
    public var token: String?

    /// Creates a connection; `apiURL` defaults to Slack's public Web API.
    public init(apiURL: String = "https://slack.com/api", token: String? = nil) {
        self.apiURL = apiURL
        self.token = token
    }
}

extension SlackConnection: CustomStringConvertible {
    /// Describes the connection without the token.
    public var description: String {
        "SlackConnection(apiURL: \(apiURL), token: \(token == nil ? "none" : "[REDACTED]"))"
    }
}
