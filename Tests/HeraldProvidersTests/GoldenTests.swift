import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// Pins every (event key, channel) rendering (STYLE: golden files for every pair).
@Suite("Golden renderings")
struct GoldenTests {
    let slack = SlackProvider(
        notifier: Fixtures.slackNotifier,
        connection: SlackConnection(token: Fixtures.slackToken)
    )
    let webhook = WebhookProvider(
        notifier: Fixtures.webhookNotifier,
        connection: WebhookConnection(signingSecret: Fixtures.signingSecret)
    )

    @Test("Slack chat.postMessage", arguments: Fixtures.goldenKeys)
    func slackAPI(key: String) throws {
        let message = try slack.render(Fixtures.input(key, recipient: Fixtures.slackUser))
        try checkCanonical(message.body)
        try GoldenFiles.check(try GoldenFiles.goldenForm(ofJSON: message.body), name: "slack/\(key).json")
    }

    @Test("Slack incoming webhook", arguments: Fixtures.goldenKeys)
    func slackWebhook(key: String) throws {
        let message = try slack.render(Fixtures.input(key, recipient: Fixtures.slackHook, reason: .route))
        try checkCanonical(message.body)
        try GoldenFiles.check(try GoldenFiles.goldenForm(ofJSON: message.body), name: "slack-webhook/\(key).json")
    }

    @Test("Generic webhook", arguments: Fixtures.goldenKeys)
    func genericWebhook(key: String) throws {
        let message = try webhook.render(Fixtures.input(key, recipient: Fixtures.webhookRoute, reason: .route))
        try checkCanonical(message.body)
        try GoldenFiles.check(try GoldenFiles.goldenForm(ofJSON: message.body), name: "webhook/\(key).json")
    }

    @Test("Every catalog key has golden files")
    func coverage() {
        let keys = Set(Fixtures.goldenKeys)
        for entry in Fixtures.catalog.allEntries {
            #expect(keys.contains(entry.key), "no golden rendering for \(entry.key)")
        }
    }

    /// The stored body is already in canonical form (sorted keys): rendering twice gives the same bytes.
    private func checkCanonical(_ body: Data) throws {
        #expect(try JSONValue.parse(body).canonicalData() == body)
    }
}
