import Foundation

/// The preference operations the settings screens need (SPEC §8.3, §8.4), composed from the store's
/// directory methods so every store implementation has them. Each write is one `replacePreferences` call:
/// fully applied or not at all.
extension Store {
    /// The user's matrix: one row per catalog key, sorted by key.
    public func preferenceMatrix(user: String, catalog: Catalog) async throws -> [PreferenceMatrixRow] {
        PreferenceMatrix.rows(catalog: catalog, userRows: try await preferenceRows(of: .user(user)))
    }

    /// Saves a user-scope override of some channels of `key` and returns the key's new matrix row.
    public func savePreferenceOverride(
        user: String,
        key: String,
        channels: [Channel: Bool],
        catalog: Catalog
    )
        async throws -> PreferenceMatrixRow
    {
        guard let entry = catalog.entry(for: key) else {
            throw ValidationFailure(
                code: "UNKNOWN_EVENT_KEY",
                details: [FieldError(field: "eventKey", message: "\"\(key)\" is not in the catalog")]
            )
        }
        let refused = channels.keys.filter { !Channel.personal.contains($0) }.sorted()
        if !refused.isEmpty {
            throw ValidationFailure(
                code: "VALIDATION_FAILED",
                details: refused.map { FieldError(field: $0.rawValue, message: "is not a personal channel") }
            )
        }
        let rows = PreferenceMatrix.overrideRows(userId: user, key: key, channels: channels)
        let after = try await replacePreferences(removing: [], upserting: rows, returningRowsOf: .user(user))
        return PreferenceMatrix.row(for: entry, userRows: after)
    }

    /// Drops the user's user-scope rows for `key` and returns the key's row, back at its defaults.
    public func resetPreferences(user: String, key: String, catalog: Catalog) async throws -> PreferenceMatrixRow {
        guard let entry = catalog.entry(for: key) else {
            throw ValidationFailure(
                code: "UNKNOWN_EVENT_KEY",
                details: [FieldError(field: "eventKey", message: "\"\(key)\" is not in the catalog")]
            )
        }
        let owned = try await preferenceRows(of: .user(user))
        let removed = owned.filter { $0.scope == .user && $0.subject == key }.map(\.identity)
        try await replacePreferences(removing: removed, upserting: [])
        return PreferenceMatrix.row(for: entry, userRows: PreferenceMatrix.removingOverrides(key: key, from: owned))
    }

    /// Upserts validated option or provider rows (built by `PreferenceOptions`).
    public func upsertPreferenceRows(_ rows: [PreferenceRow]) async throws {
        try await replacePreferences(removing: [], upserting: rows)
    }

    /// Deletes one of `party`'s rows; `StoreError.notFound` when `party` owns no row with that identity.
    public func deletePreferenceRow(_ identity: PreferenceRowIdentity, of party: DirectoryParty) async throws {
        guard try await preferenceRows(of: party).contains(where: { $0.identity == identity }) else {
            throw StoreError.notFound("preference row")
        }
        try await replacePreferences(removing: [identity], upserting: [])
    }
}
