/// A notification type: the settings group an event key belongs to.
public struct NotificationType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let workflow = NotificationType("workflow")
    public static let deploy = NotificationType("deploy")
    public static let alerts = NotificationType("alerts")
    /// One-time passcodes and other messages about the user's own account.
    public static let security = NotificationType("security")

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// How an event key finds its audience when no explicit recipients are given.
public enum AudienceRule: String, Sendable, Codable, Hashable {
    /// Issue subscribers and project members (workflow keys).
    case subscribers
    /// Project routes only: threads and channels, never people.
    case routesOnly
    /// Release participants (deploy).
    case releaseParticipants
    /// Alert targets with the fallthrough rule (issue alerts).
    case alertTargets
    /// Only the recipients the event names (custom keys).
    case explicit
}

/// One entry of the catalog of event keys.
public struct CatalogEntry: Sendable, Hashable, Codable {
    /// The event key, e.g. `assigned` or `payout_processed`.
    public var key: String
    /// The settings group the key belongs to.
    public var type: NotificationType
    /// A human description, also the neutral title of untemplated custom keys.
    public var description: String
    /// Whether each channel is on by default.
    public var defaults: [Channel: Bool]
    /// Critical keys ignore user-level opt-outs (e.g. one-time passcodes).
    public var critical: Bool
    /// Built-in keys ship with Herald; custom keys come from configuration.
    public var builtIn: Bool
    /// Who hears about the key when the event names nobody.
    public var audience: AudienceRule

    public init(
        key: String,
        type: NotificationType,
        description: String,
        defaults: [Channel: Bool],
        critical: Bool = false,
        builtIn: Bool = false,
        audience: AudienceRule = .explicit
    ) {
        self.key = key
        self.type = type
        self.description = description
        self.defaults = defaults
        self.critical = critical
        self.builtIn = builtIn
        self.audience = audience
    }

    /// Whether `channel` is on by default for this key.
    public func isEnabledByDefault(_ channel: Channel) -> Bool {
        defaults[channel] ?? false
    }
}

/// The admin-managed list of event keys: the built-in activity types plus custom keys.
public struct Catalog: Sendable {
    private var entries: [String: CatalogEntry]

    /// Channel defaults of built-in keys: email and Slack on, Teams and SMS off, PagerDuty only through routes.
    public static let builtInDefaults: [Channel: Bool] = [
        .email: true, .slack: true, .msteams: false, .sms: false, .pagerduty: false, .webhook: false,
    ]

    /// The built-in activity types.
    public static let builtInEntries: [CatalogEntry] = {
        func entry(
            _ key: String,
            _ type: NotificationType,
            _ description: String,
            _ audience: AudienceRule
        )
            -> CatalogEntry
        {
            CatalogEntry(
                key: key,
                type: type,
                description: description,
                defaults: builtInDefaults,
                critical: false,
                builtIn: true,
                audience: audience
            )
        }
        return [
            entry("assigned", .workflow, "An issue was assigned", .subscribers),
            entry("unassigned", .workflow, "An issue was unassigned", .subscribers),
            entry("resolved", .workflow, "An issue was resolved", .subscribers),
            entry("resolved_in_release", .workflow, "An issue was resolved in a release", .subscribers),
            entry("resolved_in_commit", .workflow, "An issue was resolved by a commit", .subscribers),
            entry("resolved_in_pull_request", .workflow, "An issue was resolved by a pull request", .subscribers),
            entry("resolved_by_age", .workflow, "An issue was resolved by age", .routesOnly),
            entry("unresolved", .workflow, "An issue was unresolved", .subscribers),
            entry("archived", .workflow, "An issue was archived", .subscribers),
            entry("regression", .workflow, "An issue regressed", .subscribers),
            entry("escalating", .workflow, "An issue is escalating", .subscribers),
            entry("note", .workflow, "A comment was added to an issue", .subscribers),
            entry("external_issue_created", .workflow, "An external issue was linked", .routesOnly),
            entry("deploy", .deploy, "A release was deployed", .releaseParticipants),
            entry("issue_alert", .alerts, "An alert rule fired", .alertTargets),
            // SPEC §11.6: issued only by POST /projects/{id}/otp; critical, so preferences cannot mute it.
            CatalogEntry(
                key: Catalog.otpKey,
                type: .security,
                description: "A one-time passcode",
                defaults: [
                    .email: true, .sms: true, .slack: false, .msteams: false, .pagerduty: false, .webhook: false,
                ],
                critical: true,
                builtIn: true,
                audience: .explicit
            ),
        ]
    }()

    /// The built-in key of one-time passcodes: rendered only by the OTP endpoint, never accepted as an event.
    public static let otpKey = "otp_code"

    /// A catalog of the built-in keys plus `custom` (a custom entry may not reuse a built-in key).
    public init(custom: [CatalogEntry] = []) {
        var entries: [String: CatalogEntry] = [:]
        for entry in Catalog.builtInEntries { entries[entry.key] = entry }
        for entry in custom where entries[entry.key] == nil { entries[entry.key] = entry }
        self.entries = entries
    }

    /// The entry for `key`, if the key is known.
    public func entry(for key: String) -> CatalogEntry? { entries[key] }

    /// Every entry sorted by key.
    public var allEntries: [CatalogEntry] { entries.values.sorted { $0.key < $1.key } }

    /// Whether `key` is one of the built-in activity types.
    public static func isBuiltIn(_ key: String) -> Bool {
        builtInEntries.contains { $0.key == key }
    }

    /// Adds or replaces a custom entry; built-in keys cannot be replaced.
    public mutating func upsert(_ entry: CatalogEntry) throws(FieldError) {
        guard !Catalog.isBuiltIn(entry.key) else {
            throw FieldError(field: "key", message: "\"\(entry.key)\" is a built-in key and cannot be redefined")
        }
        entries[entry.key] = entry
    }

    /// Checks the spelling of a custom key: lower-case letters, digits and `_`, 1–64 characters.
    public static func validateKey(_ key: String) -> String? {
        guard !key.isEmpty, key.count <= 64 else { return "must be 1 to 64 characters" }
        let allowed = key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        return allowed ? nil : "may contain only lower-case letters, digits and '_'"
    }
}
