import Foundation
import HeraldCore
import HeraldProviders
import HeraldTesting
import Testing

@testable import HeraldWorker

/// The planner gives each directory user's message its own links (SPEC §11.7): one-click unsubscribe on email,
/// the preference center as the settings link unless `links.settingsURL` is set; raw addresses and critical keys
/// get neither. Rendered by the real email and Slack providers.
@Suite("Per-recipient links in fan-out")
struct RecipientLinksPlannerTests {
    /// Links that spell out what they were asked for (the HMAC signer is tested with the pages).
    struct SpelledLinks: RecipientLinks {
        func links(user: String, key: String, channel: Channel, now: Date) -> RecipientLinkSet {
            let issued = Int(now.timeIntervalSince1970)
            return RecipientLinkSet(
                unsubscribeURL: "https://h.test/u/\(user).\(key).\(channel.rawValue).\(issued)",
                preferencesURL: "https://h.test/preferences?token=\(user).\(issued)"
            )
        }
    }

    struct FixedAudience: AudienceResolver {
        let targets: [PlannedTarget]
        func resolve(_ event: Event, entry: CatalogEntry) -> AudienceResolution {
            AudienceResolution(targets: targets)
        }
    }

    static let ann = Recipient(kind: .user, id: "u1", address: "ann@acme.test", name: "Ann Lee")
    static let catalog = Catalog(custom: [
        CatalogEntry(
            key: "payout_processed",
            type: NotificationType("payments"),
            description: "A payout",
            defaults: [.email: true]
        ),
        CatalogEntry(
            key: "login_alert",
            type: NotificationType("security"),
            description: "A login",
            defaults: [.email: true],
            critical: true
        ),
    ])

    static func plan(
        key: String = "payout_processed",
        settingsURLTemplate: String? = nil,
        links: (any RecipientLinks)? = SpelledLinks()
    )
        -> [NewDelivery]
    {
        let providers = ProviderSet(
            providers: [
                EmailProvider(
                    notifier: NotifierInfo(id: 1, name: "smtp", channel: .email),
                    connection: EmailConnection(url: "smtp://127.0.0.1:1", from: "Herald <n@herald.test>")
                ),
                SlackProvider(
                    notifier: NotifierInfo(id: 2, name: "slack", channel: .slack),
                    connection: SlackConnection(apiURL: "http://127.0.0.1:1/api", token: "xoxb-test")
                ),
            ],
            defaults: [.email: 1, .slack: 2]
        )
        let slackAnn = Recipient(kind: .user, id: "u1", address: "U0000000001", name: "Ann Lee")
        let planner = FanOutPlanner(
            catalog: catalog,
            providers: providers,
            audience: FixedAudience(targets: [
                PlannedTarget(recipient: ann, channel: .email, reason: .implicit),
                PlannedTarget(recipient: slackAnn, channel: .slack, reason: .implicit),
            ]),
            settingsURLTemplate: settingsURLTemplate,
            links: links,
            clock: ManualClock(start: Date(timeIntervalSince1970: 1_795_000_000))
        )
        let event = Event(
            id: "evt-links",
            key: key,
            organization: "acme",
            data: ["title": .string("Payout sent")],
            recipients: [.address(channel: .email, address: "ops@acme.test", notifier: nil)],
            occurredAt: Date(timeIntervalSince1970: 1_795_000_000)
        )
        return planner.plan(event).result.deliveries
    }

    static func text(_ delivery: NewDelivery?) -> String {
        String(decoding: delivery?.payload ?? Data(), as: UTF8.self)
    }

    @Test func aDirectoryUsersEmailCarriesItsOwnUnsubscribeAndPreferenceLinks() throws {
        let deliveries = Self.plan()
        let user = Self.text(deliveries.first { $0.channel == .email && $0.recipient.id == "u1" })
        #expect(user.contains("List-Unsubscribe: <https://h.test/u/u1.payout_processed.email.1795000000>\r\n"))
        #expect(user.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        #expect(user.contains("Notification settings: https://h.test/preferences?token=3Du1.1795000000"), "\(user)")
        let slack = Self.text(deliveries.first { $0.channel == .slack })
        #expect(slack.contains("https://h.test/preferences?token=u1.1795000000"), "Slack's settings link: \(slack)")
        #expect(!slack.contains("/u/u1."), "no unsubscribe link outside email")
        let raw = Self.text(deliveries.first { $0.recipient.kind == .address })
        #expect(
            !raw.isEmpty && !raw.contains("List-Unsubscribe") && !raw.contains("h.test"),
            "a raw address has no user"
        )
    }

    @Test func aConfiguredSettingsPageWinsButTheUnsubscribeLinkStaysHeralds() {
        let deliveries = Self.plan(settingsURLTemplate: "https://tracker.test/settings/{key}")
        let user = Self.text(deliveries.first { $0.channel == .email && $0.recipient.id == "u1" })
        #expect(user.contains("List-Unsubscribe: <https://h.test/u/u1.payout_processed.email.1795000000>"))
        #expect(user.contains("Notification settings: https://tracker.test/settings/payout_processed"))
        #expect(!user.contains("h.test/preferences"))
    }

    @Test func criticalKeysAndPagesOffCarryNoLinks() {
        for deliveries in [Self.plan(key: "login_alert"), Self.plan(links: nil)] {
            #expect(deliveries.count == 3)
            for delivery in deliveries {
                let text = Self.text(delivery)
                #expect(!text.contains("List-Unsubscribe") && !text.contains("h.test"), "\(delivery.channel)")
            }
        }
    }
}
