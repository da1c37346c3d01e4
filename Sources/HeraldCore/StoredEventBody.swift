import Foundation

/// The JSON form of `Event` that the stores keep in `events.body`: dates as integer milliseconds, exact to the
/// millisecond.
///
/// Written and read by hand over `JSONValue` (the shape `JSONEncoder` gave earlier Herald versions, which still
/// decodes): intake stores thousands of events per second and fan-out reads them back, and the Codable round
/// trip was the largest part of both. It also keeps every `data` member name byte for byte, which `JSONEncoder`
/// and `JSONDecoder` do not: their `String`-keyed storage merges `"é"` and `"e\u0301"` into one member.
public enum StoredEventBody {
    /// A body that is not the stored shape (written by a newer Herald or edited by hand).
    public struct Malformed: Error, CustomStringConvertible {
        public var field: String
        public var description: String { "stored event body: \(field) is missing or of the wrong type" }
    }

    public static func encode(_ event: Event) -> Data {
        var object: [JSONKey: JSONValue] = [
            "id": .string(event.id),
            "key": .string(event.key),
            "organization": .string(event.organization),
            "data": .object(event.data),
            "occurredAt": .number(Double(storeMillis(event.occurredAt))),
            "recipients": .array(event.recipients.map(encode)),
        ]
        if let project = event.project { object["project"] = .string(project) }
        if let actor = event.actor {
            var members: [JSONKey: JSONValue] = ["id": .string(actor.id)]
            if let name = actor.name { members["name"] = .string(name) }
            object["actor"] = .object(members)
        }
        if let issue = event.issue {
            var members: [JSONKey: JSONValue] = ["id": .string(issue.id)]
            let optional: [(String, String?)] = [
                ("shortId", issue.shortId), ("title", issue.title), ("url", issue.url), ("level", issue.level),
                ("culprit", issue.culprit), ("environment", issue.environment),
            ]
            for (name, value) in optional {
                if let value { members[name] = .string(value) }
            }
            object["issue"] = .object(members)
        }
        return Data(JSONValue.object(object).canonicalBytes())
    }

    private static func encode(_ recipient: RecipientSpec) -> JSONValue {
        switch recipient {
        case .user(let id): return .object(["user": .string(id)])
        case .team(let id): return .object(["team": .string(id)])
        case .address(let channel, let address, let notifier):
            var members: [JSONKey: JSONValue] = ["channel": .string(channel.rawValue), "address": .string(address)]
            if let notifier { members["notifier"] = .number(Double(notifier)) }
            return .object(members)
        }
    }

    public static func decode(_ body: Data) throws -> Event {
        guard case .object(let object) = try JSONValue.parse(body) else { throw Malformed(field: "body") }
        func string(_ members: [JSONKey: JSONValue], _ name: String, in path: String) throws -> String {
            guard case .string(let value)? = members[name] else { throw Malformed(field: path + name) }
            return value
        }
        func optionalString(_ members: [JSONKey: JSONValue], _ name: String, in path: String) throws -> String? {
            switch members[name] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw Malformed(field: path + name)
            }
        }
        func integer(_ value: JSONValue?, _ field: String) throws -> Int64 {
            guard case .number(let number)? = value, number.rounded() == number, abs(number) < 9.2e18 else {
                throw Malformed(field: field)
            }
            return Int64(number)
        }
        var actor: Actor?
        switch object["actor"] {
        case nil, .null?: break
        case .object(let members)?:
            actor = Actor(
                id: try string(members, "id", in: "actor."),
                name: try optionalString(members, "name", in: "actor.")
            )
        default: throw Malformed(field: "actor")
        }
        var issue: IssueReference?
        switch object["issue"] {
        case nil, .null?: break
        case .object(let members)?:
            issue = IssueReference(
                id: try string(members, "id", in: "issue."),
                shortId: try optionalString(members, "shortId", in: "issue."),
                title: try optionalString(members, "title", in: "issue."),
                url: try optionalString(members, "url", in: "issue."),
                level: try optionalString(members, "level", in: "issue."),
                culprit: try optionalString(members, "culprit", in: "issue."),
                environment: try optionalString(members, "environment", in: "issue.")
            )
        default: throw Malformed(field: "issue")
        }
        guard case .object(let data)? = object["data"] else { throw Malformed(field: "data") }
        guard case .array(let specs)? = object["recipients"] else { throw Malformed(field: "recipients") }
        var recipients: [RecipientSpec] = []
        recipients.reserveCapacity(specs.count)
        for spec in specs {
            guard case .object(let members) = spec else { throw Malformed(field: "recipients[]") }
            if let user = try optionalString(members, "user", in: "recipients[].") {
                recipients.append(.user(user))
            } else if let team = try optionalString(members, "team", in: "recipients[].") {
                recipients.append(.team(team))
            } else {
                guard let channel = Channel(rawValue: try string(members, "channel", in: "recipients[].")) else {
                    throw Malformed(field: "recipients[].channel")
                }
                let notifier: Int?
                switch members["notifier"] {
                case nil, .null?: notifier = nil
                case let value: notifier = Int(try integer(value, "recipients[].notifier"))
                }
                recipients.append(
                    .address(
                        channel: channel,
                        address: try string(members, "address", in: "recipients[]."),
                        notifier: notifier
                    )
                )
            }
        }
        return Event(
            id: try string(object, "id", in: ""),
            key: try string(object, "key", in: ""),
            organization: try string(object, "organization", in: ""),
            project: try optionalString(object, "project", in: ""),
            actor: actor,
            issue: issue,
            data: data,
            recipients: recipients,
            occurredAt: Date(timeIntervalSince1970: Double(try integer(object["occurredAt"], "occurredAt")) / 1000)
        )
    }

    /// Milliseconds since the Unix epoch, rounded.
    static func storeMillis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
