import Foundation
import HeraldCore

/// The values a custom key's template can name (SPEC §3.3).
///
/// ```
/// id, key, organization, organizationName, project, projectName, occurredAt (RFC 3339)
/// actor.id, actor.name
/// issue.id, issue.shortId, issue.title, issue.url, issue.level, issue.culprit, issue.environment
/// data.*            the event's data, nested objects and arrays as they are
/// recipient.kind, recipient.id, recipient.name, recipient.address (not for URL addresses: they can be secrets)
/// reason            the sentence saying why the recipient gets the message
/// reasonCode        the raw reason (`explicit`, `assigned`, …)
/// settingsURL       the recipient's notification settings link
/// title, text, url  Herald's neutral rendering (data.title or the catalog description, data.text, data.url)
/// ```
///
/// Absent values are left out, so `{{#issue}}…{{/issue}}` sections and `{{^actor}}` work. Numbers are shown
/// the way a person writes them (`1250`, not `1250.0`); booleans stay booleans so they drive sections.
enum TemplateContext {
    /// The context object of one rendering.
    static func values(for input: RenderInput) -> [String: Any] {
        let event = input.event
        let neutral = NeutralContent(input)
        var values: [String: Any] = [
            "id": event.id,
            "key": event.key,
            "organization": event.organization,
            "occurredAt": Timestamp.format(event.occurredAt),
            "data": object(event.data),
            "recipient": recipient(input.recipient),
            "reason": neutral.reasonLine,
            "reasonCode": input.reason.rawValue,
            "title": neutral.title,
        ]
        values["project"] = event.project
        values["projectName"] = input.context.projectName ?? event.project
        values["organizationName"] = input.context.organizationName ?? event.organization
        values["settingsURL"] = neutral.settingsURL
        values["text"] = neutral.body
        values["url"] = neutral.url
        if let actor = event.actor {
            var actorValues: [String: Any] = ["id": actor.id]
            actorValues["name"] = actor.name
            values["actor"] = actorValues
        }
        if let issue = event.issue {
            var issueValues: [String: Any] = ["id": issue.id]
            issueValues["shortId"] = issue.shortId
            issueValues["title"] = issue.title
            issueValues["url"] = issue.url
            issueValues["level"] = issue.level
            issueValues["culprit"] = issue.culprit
            issueValues["environment"] = issue.environment
            values["issue"] = issueValues
        }
        return values
    }

    private static func recipient(_ recipient: Recipient) -> [String: Any] {
        var values: [String: Any] = ["kind": recipient.kind.rawValue]
        values["id"] = recipient.id
        values["name"] = recipient.name
        // Webhook and Teams addresses are URLs whose path is a credential.
        if Redaction.redactedAddress(recipient.address) == recipient.address {
            values["address"] = recipient.address
        }
        return values
    }

    private static func object(_ members: [JSONKey: JSONValue]) -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in members {
            guard let converted = convert(value) else { continue }
            // The template engine looks names up as `String`s, for which canonically equivalent names (`é` and
            // `e\u0301`) are one: the first in byte order wins, whatever the order of the dictionary.
            if let index = result.index(forKey: key.string), JSONKey(result.keys[index]) < key { continue }
            result[key.string] = converted
        }
        return result
    }

    private static func convert(_ value: JSONValue) -> Any? {
        switch value {
        case .null: nil
        case .bool(let flag): flag
        case .number: value.displayText
        case .string(let text): text
        case .array(let elements): elements.compactMap(convert)
        case .object(let members): object(members)
        }
    }
}
