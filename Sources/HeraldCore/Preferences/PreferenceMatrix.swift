/// One line of a user's preference matrix (SPEC §8.3): the user-scope on/off of each personal channel.
public struct PreferenceMatrixRow: Sendable, Hashable, Codable {
    /// The catalog key.
    public var eventKey: String
    public var email: Bool
    public var slack: Bool
    public var msteams: Bool
    public var sms: Bool
    public var webhook: Bool
    /// Whether the user has any user-scope row for the key.
    public var customized: Bool

    /// Creates a row.
    public init(
        eventKey: String,
        email: Bool,
        slack: Bool,
        msteams: Bool,
        sms: Bool,
        webhook: Bool,
        customized: Bool
    ) {
        self.eventKey = eventKey
        self.email = email
        self.slack = slack
        self.msteams = msteams
        self.sms = sms
        self.webhook = webhook
        self.customized = customized
    }

    /// The on/off of `channel` (PagerDuty is never personal and reads off).
    public subscript(channel: Channel) -> Bool {
        switch channel {
        case .email: email
        case .slack: slack
        case .msteams: msteams
        case .sms: sms
        case .webhook: webhook
        case .pagerduty: false
        }
    }
}

extension PreferenceMatrixRow {
    /// Appends the row as a JSON object with its keys sorted, byte for byte what `JSONEncoder` with
    /// `.sortedKeys` writes, without its cost (the matrix is the hottest read of the API, SPEC §16 W6).
    public func appendJSON(to output: inout [UInt8]) {
        func flag(_ name: StaticString, _ value: Bool, comma: Bool = true) {
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            output.append(contentsOf: value ? #"":true"#.utf8 : #"":false"#.utf8)
            if comma { output.append(UInt8(ascii: ",")) }
        }
        output.append(UInt8(ascii: "{"))
        flag("customized", customized)
        flag("email", email)
        output.append(contentsOf: #""eventKey":"#.utf8)
        JSONValue.writeString(eventKey, into: &output)
        output.append(UInt8(ascii: ","))
        flag("msteams", msteams)
        flag("slack", slack)
        flag("sms", sms)
        flag("webhook", webhook, comma: false)
        output.append(UInt8(ascii: "}"))
    }
}

/// The user-facing preference matrix and its edits, as pure functions over a user's rows (SPEC §8.3).
///
/// The booleans are channel on/off at user scope: the catalog default, overridden by the user's type row,
/// overridden by the user's key row. They do not fold in the option value, so a PATCH always reads back as
/// written; critical keys read as their defaults because user rows do not apply to them.
public enum PreferenceMatrix {
    /// One row per catalog key, sorted by key, for the user owning `rows`.
    public static func rows(catalog: Catalog, userRows rows: [PreferenceRow]) -> [PreferenceMatrixRow] {
        let userScoped = rows.filter { $0.scope == .user }
        return catalog.allEntries.map { row(for: $0, userScopedRows: userScoped) }
    }

    /// The matrix row of one key for the user owning `rows`.
    public static func row(for entry: CatalogEntry, userRows rows: [PreferenceRow]) -> PreferenceMatrixRow {
        row(for: entry, userScopedRows: rows.filter { $0.scope == .user })
    }

    private static func row(for entry: CatalogEntry, userScopedRows rows: [PreferenceRow]) -> PreferenceMatrixRow {
        // A row about neither this key nor its type does not apply (the resolver would skip it): with none that
        // does, the row is the catalog's defaults, as most users' rows are, without building a resolution.
        let applies = rows.contains { $0.subject == entry.key || $0.subject == entry.type.rawValue }
        guard applies else {
            return PreferenceMatrixRow(
                eventKey: entry.key,
                email: entry.isEnabledByDefault(.email),
                slack: entry.isEnabledByDefault(.slack),
                msteams: entry.isEnabledByDefault(.msteams),
                sms: entry.isEnabledByDefault(.sms),
                webhook: entry.isEnabledByDefault(.webhook),
                customized: false
            )
        }
        let resolved = PreferenceResolver.resolve(rows: rows, entry: entry, organizationId: nil, projectId: nil)
        let on = { (channel: Channel) in resolved.channels[channel] ?? false }
        return PreferenceMatrixRow(
            eventKey: entry.key,
            email: on(.email),
            slack: on(.slack),
            msteams: on(.msteams),
            sms: on(.sms),
            webhook: on(.webhook),
            customized: rows.contains { $0.subject == entry.key }
        )
    }

    /// The user-scope channel rows a PATCH of `channels` for `key` writes (only the channels given).
    public static func overrideRows(userId: String, key: String, channels: [Channel: Bool]) -> [PreferenceRow] {
        channels.keys.sorted().filter { Channel.personal.contains($0) }.map { channel in
            PreferenceRow(
                owner: .user(userId),
                scope: .user,
                scopeId: userId,
                subject: key,
                channel: channel,
                value: channels[channel]! ? .always : .never
            )
        }
    }

    /// `rows` after a PATCH of `channels` for `key`: the override rows replace rows of the same identity.
    public static func applyingOverride(
        _ channels: [Channel: Bool],
        key: String,
        userId: String,
        to rows: [PreferenceRow]
    ) -> [PreferenceRow] {
        PreferenceOptions.upserting(overrideRows(userId: userId, key: key, channels: channels), into: rows)
    }

    /// `rows` after a DELETE for `key`: the user-scope rows of the key are dropped, so it reads as defaults.
    ///
    /// Organization and project rows stay; the matrix does not show them and a reset should not lose them.
    public static func removingOverrides(key: String, from rows: [PreferenceRow]) -> [PreferenceRow] {
        rows.filter { !($0.scope == .user && $0.subject == key) }
    }
}
