import Foundation
import HeraldCore

/// Fixtures for the Teams, PagerDuty and SMS providers.
extension Fixtures {
    /// A Workflows trigger URL; the `sig` value is the secret part.
    static let teamsSignature = "Zk1vTjVxR3BhY2tlZFNpZ25hdHVyZVZhbHVlMTIz"
    static let teamsURL =
        "https://prod-42.westeurope.logic.azure.com:443/workflows/3c9d2f0e8a7b4c1d9e6f/triggers/manual/paths/invoke"
        + "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=\(teamsSignature)"
    static let teamsLegacyURL =
        "https://acme.webhook.office.com/webhookb2/1111aaaa-2222@3333bbbb/IncomingWebhook/c0ffee0123456789/4444cccc"
    static let teamsNotifier = NotifierInfo(id: 4, name: "teams", channel: .msteams)
    static let teamsRoute = Recipient(kind: .route, id: "route-4", address: teamsURL)

    /// A 32-character integration key.
    static let routingKey = "R7f3c9a1e5b2d8f4a6c0e9b1d3f5a7c2"
    static let pagerDutyNotifier = NotifierInfo(id: 3, name: "pagerduty", channel: .pagerduty)
    static let pagerDutyRoute = Recipient(kind: .route, id: "route-pd", address: routingKey)

    static let twilioAccountSid = "AC0123456789abcdef0123456789abcdef"
    static let twilioAuthToken = "twtok_8d2f4b6a1c3e5f7091b2d4c6e8fa"
    static let twilioFrom = "+15550001111"
    static let smsNotifier = NotifierInfo(id: 5, name: "twilio", channel: .sms)
    static let smsUser = Recipient(kind: .user, id: "u7", address: "+15551230000", name: "Ann Lee")

    /// The keys PagerDuty renders: the paging keys and every resolve.
    static let pagerDutyKeys: [String] = goldenKeys.filter { PagerDutyKeys.pages($0) }

    /// A leased delivery of `message` to `recipient` through `notifier`.
    static func storedDelivery(of message: RenderedMessage, to recipient: Recipient, notifier: NotifierInfo) -> Delivery
    {
        Delivery(
            id: 91,
            eventId: "evt_01JDQ4ZC7R0000000000000000",
            channel: notifier.channel,
            notifierId: notifier.id,
            recipient: recipient,
            reason: .route,
            destination: recipient.address,
            payload: message.body,
            contentType: message.contentType,
            state: .leased,
            attempts: 0,
            createdAt: occurredAt,
            windowStart: occurredAt,
            dueAt: now,
            updatedAt: now
        )
    }
}

/// Which keys page, spelled out independently of the provider so the tests check it.
enum PagerDutyKeys {
    static func pages(_ key: String) -> Bool {
        ["escalating", "regression", "issue_alert"].contains(key) || key.hasPrefix("resolved")
    }
}
