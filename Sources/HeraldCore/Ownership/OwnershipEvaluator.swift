/// The parts of an `issue_alert` event ownership rules look at.
public struct OwnershipSubject: Sendable, Hashable {
    /// Stack-frame file paths (`data.paths`).
    public var paths: [String]
    /// The request URL (`data.url`).
    public var url: String?
    /// Tag values by name (`data.tags`), names byte for byte; numbers and booleans are read as their JSON text.
    public var tags: [JSONKey: String]

    /// Creates a subject.
    public init(paths: [String] = [], url: String? = nil, tags: [JSONKey: String] = [:]) {
        self.paths = paths
        self.url = url
        self.tags = tags
    }

    /// Reads `paths`, `url` and `tags` out of an event's data, ignoring values of the wrong type.
    public init(data: [JSONKey: JSONValue]) {
        paths = data["paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
        url = data["url"]?.stringValue
        var tags: [JSONKey: String] = [:]
        for (name, value) in data["tags"]?.objectValue ?? [:] {
            switch value {
            case .string(let text): tags[name] = text
            case .bool(let flag): tags[name] = flag ? "true" : "false"
            case .number(let number):
                tags[name] = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .null, .array, .object: break
            }
        }
        self.tags = tags
    }
}

/// Applies a project's ownership rules to an event.
public enum OwnershipEvaluator {
    /// Parses rule lines, skipping the ones that do not parse (an import refuses those; see
    /// ``DirectoryDocument/validate(catalog:)``).
    public static func parse(_ lines: [String]) -> [OwnershipRule] {
        lines.compactMap { try? OwnershipRule(parsing: $0) }
    }

    /// The rule that decides ownership: the last one matching `subject`, or nil when none does.
    public static func decidingRule(_ rules: [OwnershipRule], for subject: OwnershipSubject) -> OwnershipRule? {
        rules.last { $0.matches(subject) }
    }

    /// The owners of the last rule matching `subject`; empty when no rule matches.
    public static func owners(_ rules: [OwnershipRule], for subject: OwnershipSubject) -> [OwnerReference] {
        decidingRule(rules, for: subject)?.owners ?? []
    }
}
