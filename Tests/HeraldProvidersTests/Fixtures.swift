import Foundation
import HeraldCore

/// Realistic events for every catalog key (SPEC §3.2), shared by golden and structural tests.
enum Fixtures {
    static let occurredAt = Timestamp.parse("2026-11-23T10:00:00Z")!
    static let now = Timestamp.parse("2026-11-23T10:00:05Z")!

    static let slackToken = "xoxb-1111111111-2222222222-AbCdEfGhIjKlMnOpQrStUvWx"
    static let slackHookURL = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    static let webhookURL = "https://hooks.example.com/herald/9f2c41d7e0b8a6c3/receive?token=s3cr3t-query"
    static let signingSecret = "whsec_5b1d9e7a2c4f8e6d0b3a"

    static let slackNotifier = NotifierInfo(id: 2, name: "slack-bot", channel: .slack)
    static let webhookNotifier = NotifierInfo(id: 6, name: "webhook", channel: .webhook)

    static let catalog = Catalog(custom: [
        CatalogEntry(
            key: "payout_processed",
            type: NotificationType("payments"),
            description: "A payout was processed",
            defaults: [.email: true, .sms: true]
        ),
        CatalogEntry(
            key: "new_message_creator",
            type: NotificationType("messages"),
            description: "A creator sent you a message",
            defaults: [.email: true]
        ),
    ])

    static let issue = IssueReference(
        id: "9001",
        shortId: "BACKEND-1A",
        title: "TypeError: x is undefined",
        url: "https://tracker.example/acme/issues/9001/",
        level: "error",
        culprit: "app/models.py in save",
        environment: "production"
    )

    static let jane = Actor(id: "u42", name: "Jane Doe")

    /// Every key the golden files cover: the built-in keys in catalog order, then two custom keys.
    static let goldenKeys: [String] = Catalog.builtInEntries.map(\.key) + ["payout_processed", "new_message_creator"]

    /// A realistic event for `key`.
    static func event(_ key: String) -> Event {
        var event = Event(
            id: "evt_01JDQ4ZC7R0000000000000000",
            key: key,
            organization: "acme",
            project: "backend",
            actor: jane,
            issue: issue,
            data: [:],
            occurredAt: occurredAt
        )
        switch key {
        case "assigned":
            event.data["assignee"] = .object([
                "id": .string("u7"), "type": .string("user"), "name": .string("Ann Lee"),
                "email": .string("ann@example.com"),
            ])
        case "resolved_in_release":
            event.data["version"] = .string("2.4.0")
        case "resolved_in_commit":
            event.data["commit"] = .object([
                "id": .string("3f2a9c81d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9"),
                "message": .string("Fix undefined x in save() <models> & guard None\n\nFixes BACKEND-1A"),
                "authorEmail": .string("jane@example.com"),
                "url": .string("https://git.example/acme/backend/commit/3f2a9c81d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9"),
            ])
        case "resolved_in_pull_request":
            event.data["pullRequest"] = .object([
                "id": .string("482"), "title": .string("Guard against undefined x | hotfix"),
                "url": .string("https://git.example/acme/backend/pull/482"),
            ])
        case "otp_code":
            event.actor = nil
            event.issue = nil
            event.data["code"] = .string("48213")
            event.data["ttlSeconds"] = .number(120)
        case "resolved_by_age":
            event.actor = nil
            event.data["ageDays"] = .number(30)
        case "archived":
            event.data["until"] = .string("2026-12-01T00:00:00Z")
        case "regression":
            event.actor = nil
            event.data["version"] = .string("2.4.1")
            event.data["eventId"] = .string("b6f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5")
        case "escalating":
            event.actor = nil
            event.data["forecast"] = .number(120)
            event.data["expiredSnooze"] = .bool(true)
        case "note":
            event.data["text"] = .string("Looks like <script> & friends again — @ann can you check > prod?")
            event.data["mentions"] = .array([.string("u7")])
        case "external_issue_created":
            event.data["provider"] = .string("Jira")
            event.data["label"] = .string("OPS-311")
            event.data["location"] = .string("https://acme.atlassian.net/browse/OPS-311")
            event.data["new"] = .bool(true)
        case "deploy":
            event.issue = nil
            event.data["version"] = .string("2.4.0")
            event.data["environment"] = .string("production")
            event.data["deployId"] = .string("d-1187")
            event.data["commits"] = .array([
                .object(["authorEmail": .string("jane@example.com")]),
                .object(["authorEmail": .string("ann@example.com")]),
            ])
            event.data["projects"] = .array([.string("backend"), .string("frontend")])
        case "issue_alert":
            event.actor = nil
            event.data["rule"] = .object(["id": .string("r-12"), "name": .string("High error rate")])
            event.data["target"] = .object(["type": .string("issueOwners")])
            event.data["fallthrough"] = .string("activeMembers")
            event.data["paths"] = .array([.string("app/models.py")])
            event.data["url"] = .string("https://tracker.example/acme/alerts/rules/r-12/")
            event.data["tags"] = .object(["release": .string("2.4.0"), "browser": .string("Firefox 140")])
        case "payout_processed":
            event.project = nil
            event.actor = nil
            event.issue = nil
            event.data = [
                "title": .string("Payout of $1,250.00 processed"),
                "text": .string("Your payout to account ••••6789 was sent & should arrive in 1–2 business days."),
                "url": .string("https://market.example/payouts/po_8812"),
                "amount": .number(1250),
            ]
        case "new_message_creator":
            event.project = nil
            event.issue = nil
            event.actor = Actor(id: "c9", name: "Studio <Nova>")
        default:
            break
        }
        return event
    }

    /// The reason a personal recipient would have for `key`.
    static func reason(_ key: String) -> DeliveryReason {
        switch key {
        case "assigned": DeliveryReason("assigned")
        case "note": DeliveryReason("mentioned")
        case "deploy": DeliveryReason("committed")
        case "issue_alert": DeliveryReason("ownership")
        case "resolved_by_age", "external_issue_created": .route
        case "payout_processed", "new_message_creator": .explicit
        case "resolved", "unresolved", "archived": DeliveryReason("statusChange")
        default: .implicit
        }
    }

    static func context(_ key: String) -> RenderContext {
        RenderContext(
            settingsURL: "https://tracker.example/settings/notifications/\(key)",
            projectName: key == "payout_processed" || key == "new_message_creator" ? nil : "Backend",
            organizationName: "Acme",
            unsubscribeURL: "https://herald.example/u/signed-token-\(key)"
        )
    }

    static func input(_ key: String, recipient: Recipient, reason: DeliveryReason? = nil) -> RenderInput {
        RenderInput(
            event: event(key),
            entry: catalog.entry(for: key)!,
            recipient: recipient,
            reason: reason ?? self.reason(key),
            context: context(key)
        )
    }

    static let slackUser = Recipient(kind: .user, id: "u7", address: "U024BE7LH", name: "Ann Lee")
    static let slackHook = Recipient(kind: .route, id: "route-3", address: slackHookURL)
    static let webhookRoute = Recipient(kind: .route, id: "route-9", address: webhookURL)

    static func delivery(recipient: Recipient, payload: Data, contentType: String, channel: Channel) -> Delivery {
        Delivery(
            id: 77,
            eventId: "evt_01JDQ4ZC7R0000000000000000",
            channel: channel,
            notifierId: channel == .slack ? 2 : 6,
            recipient: recipient,
            reason: .route,
            destination: recipient.address,
            payload: payload,
            contentType: contentType,
            state: .leased,
            attempts: 0,
            createdAt: occurredAt,
            windowStart: occurredAt,
            dueAt: now,
            updatedAt: now
        )
    }
}
