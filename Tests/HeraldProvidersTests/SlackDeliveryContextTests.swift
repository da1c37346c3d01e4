import Foundation
import HeraldCore
import HeraldProviders
import Testing

/// Slack's two APIs answer differently; knowing the delivery's address settles which table applies.
@Suite("Slack classification with the delivery known")
struct SlackDeliveryContextTests {
    let provider = SlackProvider(
        notifier: NotifierInfo(id: 2, name: "slack", channel: .slack),
        connection: SlackConnection(apiURL: "https://slack.example/api", token: "xoxb-context-token")
    )
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func delivery(to address: String) -> Delivery {
        Fixtures.delivery(
            recipient: Recipient(kind: .address, address: address),
            payload: Data(),
            contentType: "application/json",
            channel: .slack
        )
    }

    func outcome(_ status: Int, _ body: String, to address: String) -> DeliveryOutcome {
        provider.classify(
            .http(.response(HTTPResponse(status: status, body: Data(body.utf8)))),
            for: delivery(to: address),
            now: now
        )
    }

    @Test func webAPIAnsweringWithoutJSONIsRetried() {
        guard case .failed(let error) = outcome(200, "<html>gateway</html>", to: "C0123456789") else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.isRetryable)
        #expect(error.reason == .serverError)
    }

    @Test func webhookAnsweringWithJSONFollowsTheWebhookTable() {
        guard case .failed(let error) = outcome(200, #"{"ok":true}"#, to: "https://hooks.slack.com/services/T/B/X")
        else {
            Issue.record("a webhook is delivered only on a plain `ok`")
            return
        }
        #expect(!error.isRetryable)
    }

    @Test func bothAPIsDeliverOnTheirSuccessAnswers() {
        #expect(outcome(200, #"{"ok":true,"ts":"1.2"}"#, to: "C0123456789") == .delivered(receipt: "1.2"))
        #expect(outcome(200, "ok", to: "https://hooks.slack.com/services/T/B/X") == .delivered(receipt: nil))
    }
}
