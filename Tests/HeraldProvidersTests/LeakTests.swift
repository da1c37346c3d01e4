import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// Error text must never carry a hook URL's path or a token (STYLE: leak test per provider).
@Suite("No secrets in error details")
struct LeakTests {
    static let slack = SlackProvider(
        notifier: Fixtures.slackNotifier,
        connection: SlackConnection(token: Fixtures.slackToken)
    )
    static let webhook = WebhookProvider(
        notifier: Fixtures.webhookNotifier,
        connection: WebhookConnection(signingSecret: Fixtures.signingSecret)
    )

    /// Pieces of secrets no provider may repeat: URL paths and queries (any provider may be handed a URL) and
    /// Slack tokens (recognisable by their prefix).
    static let forbiddenEverywhere = [
        "T00000000/B00000000", "XXXXXXXXXXXXXXXXXXXXXXXX", "/services/", Fixtures.slackToken, "AbCdEfGhIjKl",
        "9f2c41d7e0b8a6c3", "s3cr3t-query", "/herald/", "xoxp-",
    ]

    /// Secrets only the provider configured with them can recognise.
    static func forbidden(for provider: any Provider) -> [String] {
        provider.notifier.channel == .webhook ? forbiddenEverywhere + [Fixtures.signingSecret] : forbiddenEverywhere
    }

    static let echoingBodies: [String] = [
        "no_service for \(Fixtures.slackHookURL)",
        "invalid_token \(Fixtures.slackToken)",
        "Cannot POST /services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "Cannot POST /herald/9f2c41d7e0b8a6c3/receive?token=s3cr3t-query",
        "<a href=\"\(Fixtures.webhookURL)\">moved</a>",
        "signature mismatch for secret \(Fixtures.signingSecret)",
        #"{"ok":false,"error":"invalid_auth","token":"\#(Fixtures.slackToken)"}"#,
        #"{"ok":false,"error":"invalid_auth","response_metadata":{"messages":["token \#(Fixtures.slackToken) revoked","hook \#(Fixtures.slackHookURL)"]}}"#,
        #"{"ok":false,"error":"channel_not_found (\#(Fixtures.slackHookURL))"}"#,
        #"{"ok":false,"error":"xoxp-9999-8888-other-token"}"#,
    ]

    static let statuses = [200, 400, 403, 404, 429, 500]

    static let providers: [any Provider] = [slack, webhook]

    @Test("Response bodies echoing secrets", arguments: echoingBodies, statuses)
    func bodies(body: String, status: Int) {
        for provider in Self.providers {
            let response = HTTPResponse(status: status, body: Data(body.utf8))
            check(
                provider.classify(.http(.response(response)), now: Fixtures.now),
                forbidden: Self.forbidden(for: provider)
            )
        }
    }

    @Test(
        "Transport failures naming the URL",
        arguments: [TransportFailure.Kind.connect, .timeout, .configuration, .tlsConfiguration, .unknown]
    )
    func transport(kind: TransportFailure.Kind) {
        for url in [Fixtures.slackHookURL, Fixtures.webhookURL] {
            let failure = TransportFailure(
                kind: kind,
                code: 28,
                requestSent: true,
                message: "Operation timed out after 15001 ms posting to \(url) (path \(URL(string: url)!.path))"
            )
            for provider in Self.providers {
                check(
                    provider.classify(.http(.failure(failure)), now: Fixtures.now),
                    forbidden: Self.forbidden(for: provider)
                )
            }
        }
    }

    @Test("A missing-token error names the notifier, not a secret")
    func missingToken() {
        let tokenless = SlackProvider(notifier: Fixtures.slackNotifier, connection: SlackConnection())
        let delivery = Fixtures.delivery(
            recipient: Fixtures.slackUser,
            payload: Data(),
            contentType: "application/json; charset=utf-8",
            channel: .slack
        )
        do {
            _ = try tokenless.request(for: delivery)
            Issue.record("expected an error")
        } catch {
            check(.failed(error), forbidden: Self.forbidden(for: tokenless))
        }
    }

    @Test("Connection descriptions hide secrets")
    func descriptions() {
        let slack = String(describing: SlackConnection(token: Fixtures.slackToken))
        let webhook = String(describing: WebhookConnection(signingSecret: Fixtures.signingSecret))
        #expect(!slack.contains(Fixtures.slackToken))
        #expect(!webhook.contains(Fixtures.signingSecret))
    }

    private func check(
        _ outcome: DeliveryOutcome,
        forbidden: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .failed(let error) = outcome else { return }
        for secret in forbidden {
            #expect(
                !error.detail.contains(secret),
                "detail leaks \(secret): \(error.detail)",
                sourceLocation: sourceLocation
            )
            #expect(!error.summary.contains(secret), sourceLocation: sourceLocation)
        }
        #expect(error.detail.count <= 200, sourceLocation: sourceLocation)
    }
}
