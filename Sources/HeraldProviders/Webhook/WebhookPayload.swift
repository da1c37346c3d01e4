import Foundation
import HeraldCore

/// The JSON body of a generic webhook (SPEC §9): `{event, recipient, rendered: {title, text, url}}`.
///
/// A stable wire contract for receivers, so its fields are listed here rather than mirrored from `Event`.
/// It never carries secrets: the event's explicit recipients (other people's addresses and webhook URLs) are
/// left out, and so is the recipient's own URL.
struct WebhookPayload: Encodable, Sendable {
    /// The event as accepted at intake, camelCase, dates in RFC 3339.
    struct EventBody: Encodable, Sendable {
        var id: String
        var key: String
        var organization: String
        var project: String?
        var actor: Actor?
        var issue: IssueReference?
        var data: [JSONKey: JSONValue]
        var occurredAt: Date

        init(_ event: Event) {
            id = event.id
            key = event.key
            organization = event.organization
            project = event.project
            actor = event.actor
            issue = event.issue
            data = event.data
            occurredAt = event.occurredAt
        }
    }

    /// Who the message is for.
    struct RecipientBody: Encodable, Sendable {
        var kind: String
        var id: String?
        var name: String?
        /// The address, unless it is a URL (which may be a credential).
        var address: String?
        /// Why the recipient gets the message (`route`, `explicit`, `assigned`, …).
        var reason: String

        init(_ recipient: Recipient, reason: DeliveryReason) {
            kind = recipient.kind.rawValue
            id = recipient.id
            name = recipient.name
            address = Redaction.redactedAddress(recipient.address) == recipient.address ? recipient.address : nil
            self.reason = reason.rawValue
        }
    }

    /// Herald's neutral rendering, for receivers that just want to show something.
    struct RenderedBody: Encodable, Sendable {
        var title: String
        var text: String
        var url: String?
    }

    var event: EventBody
    var recipient: RecipientBody
    var rendered: RenderedBody
}
