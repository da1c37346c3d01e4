extension CatalogEntry {
    /// A custom catalog entry from its fields (configuration `catalog[]` or `PUT /admin/catalog/{key}`), or every
    /// problem with its field: the key's spelling, built-in keys, an empty type, unknown channels.
    public static func custom(
        key: String,
        type: String,
        description: String?,
        defaults: [String: Bool],
        critical: Bool
    ) throws(ValidationFailure) -> CatalogEntry {
        var problems: [FieldError] = []
        if let problem = Catalog.validateKey(key) {
            problems.append(FieldError(field: "key", message: problem))
        } else if Catalog.isBuiltIn(key) {
            problems.append(FieldError(field: "key", message: "\"\(key)\" is a built-in key"))
        }
        if type.isEmpty || type.utf8.count > 64 {
            problems.append(FieldError(field: "type", message: "must be 1 to 64 characters"))
        } else if let problem = Catalog.validateKey(type) {
            problems.append(FieldError(field: "type", message: problem))
        }
        if let description, description.utf8.count > 500 {
            problems.append(FieldError(field: "description", message: "must be at most 500 bytes"))
        }
        var channels: [Channel: Bool] = [:]
        for name in defaults.keys.sorted() {
            if let channel = Channel(rawValue: name) {
                channels[channel] = defaults[name]
            } else {
                problems.append(FieldError(field: "defaults.\(name)", message: "is not a channel"))
            }
        }
        guard problems.isEmpty else { throw ValidationFailure(code: "VALIDATION_FAILED", details: problems) }
        return CatalogEntry(
            key: key,
            type: NotificationType(type),
            description: description ?? key,
            defaults: channels,
            critical: critical,
            builtIn: false,
            audience: .explicit
        )
    }
}
