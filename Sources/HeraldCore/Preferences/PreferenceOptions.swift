/// The catalog defaults as the settings API shows them (`GET /api/v1/notification-defaults`).
public struct NotificationDefaults: Sendable, Hashable, Codable {
    /// Personal channels on by default for built-in keys.
    public var providerDefaults: [Channel]
    /// The default option value of every notification type of the catalog.
    public var typeDefaults: [String: PreferenceValue]
    /// The channel defaults of every catalog key, by key then channel name.
    public var keyDefaults: [String: [String: Bool]]

    /// Creates defaults.
    public init(
        providerDefaults: [Channel],
        typeDefaults: [String: PreferenceValue],
        keyDefaults: [String: [String: Bool]]
    ) {
        self.providerDefaults = providerDefaults
        self.typeDefaults = typeDefaults
        self.keyDefaults = keyDefaults
    }
}

/// Option rows and provider rows: the settings-API view of preference rows (SPEC §8.4), as pure functions.
///
/// An option's `type` may name a notification type of the catalog or a single catalog key; option values
/// must suit the type (`subscribeOnly` only for workflow, `committedOnly` only for deploy). Every scope
/// (`user`, `organization`, `project`) accepts both option and provider rows, since resolution reads
/// channel rows at every scope.
public enum PreferenceOptions {
    /// Error code for an unknown `type`.
    public static let invalidTypeCode = "INVALID_TYPE"
    /// Error code for every other refusal.
    public static let validationFailedCode = "VALIDATION_FAILED"

    /// The notification types of the catalog's entries.
    public static func knownTypes(in catalog: Catalog) -> Set<String> {
        Set(catalog.allEntries.map(\.type.rawValue))
    }

    /// The notification type `subject` (a type or a key) resolves to, or nil when the catalog knows neither.
    public static func type(ofSubject subject: String, in catalog: Catalog) -> NotificationType? {
        if let entry = catalog.entry(for: subject) { return entry.type }
        return knownTypes(in: catalog).contains(subject) ? NotificationType(subject) : nil
    }

    /// Checks a `type` filter or field: `[type: Invalid type]` when it is unknown.
    public static func validateType(_ type: String, catalog: Catalog) throws(ValidationFailure) -> NotificationType {
        guard let resolved = self.type(ofSubject: type, in: catalog) else {
            throw ValidationFailure(
                code: invalidTypeCode,
                details: [FieldError(field: "type", message: "Invalid type")]
            )
        }
        return resolved
    }

    /// Builds the option row a `PUT …/notification-options` writes, or throws naming every bad field.
    ///
    /// With `directory`, the scope identifier must name the owner itself (user scope), an organization, or
    /// a project of the directory.
    public static func optionRow(
        owner: DirectoryParty,
        type: String,
        scopeType: String,
        scopeIdentifier: String,
        value: String,
        catalog: Catalog,
        directory: DirectorySnapshot? = nil
    ) throws(ValidationFailure) -> PreferenceRow {
        let resolvedType = try validateType(type, catalog: catalog)
        var problems: [FieldError] = []
        let scope = PreferenceScope(rawValue: scopeType)
        if scope == nil {
            problems.append(FieldError(field: "scopeType", message: "Invalid scope type"))
        } else if let problem = scopeIdentifierProblem(scope!, scopeIdentifier, owner: owner, directory: directory) {
            problems.append(FieldError(field: "scopeIdentifier", message: problem))
        }
        let parsed = PreferenceValue(rawValue: value)
        if parsed == nil {
            problems.append(FieldError(field: "value", message: "Invalid value"))
        } else if !parsed!.isAllowed(for: resolvedType) {
            problems.append(FieldError(field: "value", message: "Invalid type for value"))
        }
        guard problems.isEmpty, let scope, let parsed else {
            throw ValidationFailure(code: validationFailedCode, details: problems)
        }
        return PreferenceRow(owner: owner, scope: scope, scopeId: scopeIdentifier, subject: type, value: parsed)
    }

    /// Builds the provider rows a `PUT …/notification-providers` writes: `always` for every personal channel
    /// listed, `never` for every other personal channel.
    public static func providerRows(
        owner: DirectoryParty,
        type: String,
        scopeType: String,
        scopeIdentifier: String,
        providers: [String],
        catalog: Catalog,
        directory: DirectorySnapshot? = nil
    ) throws(ValidationFailure) -> [PreferenceRow] {
        _ = try validateType(type, catalog: catalog)
        var problems: [FieldError] = []
        let scope = PreferenceScope(rawValue: scopeType)
        if scope == nil {
            problems.append(FieldError(field: "scopeType", message: "Invalid scope type"))
        } else if let problem = scopeIdentifierProblem(scope!, scopeIdentifier, owner: owner, directory: directory) {
            problems.append(FieldError(field: "scopeIdentifier", message: problem))
        }
        var listed: Set<Channel> = []
        for (index, name) in providers.enumerated() {
            guard let channel = Channel(rawValue: name), Channel.personal.contains(channel) else {
                problems.append(FieldError(field: "providers[\(index)]", message: "Invalid provider"))
                continue
            }
            listed.insert(channel)
        }
        guard problems.isEmpty, let scope else {
            throw ValidationFailure(code: validationFailedCode, details: problems)
        }
        return Channel.personal.map { channel in
            PreferenceRow(
                owner: owner,
                scope: scope,
                scopeId: scopeIdentifier,
                subject: type,
                channel: channel,
                value: listed.contains(channel) ? .always : .never
            )
        }
    }

    /// The option rows (no channel) of `rows`, optionally only those of one subject.
    public static func optionRows(_ rows: [PreferenceRow], subject: String? = nil) -> [PreferenceRow] {
        rows.filter { $0.channel == nil && (subject == nil || $0.subject == subject) }
    }

    /// The provider rows (with a channel) of `rows`, optionally only those of one subject.
    public static func providerRows(_ rows: [PreferenceRow], subject: String? = nil) -> [PreferenceRow] {
        rows.filter { $0.channel != nil && (subject == nil || $0.subject == subject) }
    }

    /// `rows` with `newRows` upserted: a new row replaces the existing row of the same identity in place,
    /// otherwise it is appended.
    public static func upserting(_ newRows: [PreferenceRow], into rows: [PreferenceRow]) -> [PreferenceRow] {
        var result = rows
        var positions: [PreferenceRowIdentity: Int] = [:]
        for (index, row) in result.enumerated() { positions[row.identity] = index }
        for row in newRows {
            if let index = positions[row.identity] {
                result[index] = row
            } else {
                positions[row.identity] = result.count
                result.append(row)
            }
        }
        return result
    }

    /// The catalog defaults for the settings API.
    public static func defaults(catalog: Catalog) -> NotificationDefaults {
        var typeDefaults: [String: PreferenceValue] = [:]
        var keyDefaults: [String: [String: Bool]] = [:]
        for entry in catalog.allEntries {
            typeDefaults[entry.type.rawValue] = PreferenceValue.typeDefault(for: entry.type)
            var channels: [String: Bool] = [:]
            for channel in Channel.personal { channels[channel.rawValue] = entry.isEnabledByDefault(channel) }
            keyDefaults[entry.key] = channels
        }
        return NotificationDefaults(
            providerDefaults: Channel.personal.filter { Catalog.builtInDefaults[$0] == true },
            typeDefaults: typeDefaults,
            keyDefaults: keyDefaults
        )
    }

    /// Why `scopeId` cannot be used with `scope` for `owner`, or nil when it can.
    static func scopeIdentifierProblem(
        _ scope: PreferenceScope,
        _ scopeId: String,
        owner: DirectoryParty,
        directory: DirectorySnapshot?
    ) -> String? {
        if scopeId.isEmpty { return "must not be empty" }
        switch scope {
        case .user:
            return scopeId == owner.id ? nil : "must be the owner's own id for user scope"
        case .organization:
            guard let directory else { return nil }
            return directory.organization(id: scopeId) == nil ? "is not a known organization" : nil
        case .project:
            guard let directory else { return nil }
            return directory.project(id: scopeId) == nil ? "is not a known project" : nil
        }
    }
}
