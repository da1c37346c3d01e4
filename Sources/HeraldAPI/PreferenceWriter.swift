import HeraldCore

/// The writes of a user's preference matrix, shared by `PATCH`/`DELETE /api/v1/notifications/preferences/{eventKey}`
/// and the hosted preference center (one-click unsubscribe included), so the API and the pages cannot drift.
public struct PreferenceWriter: Sendable {
    public let store: any Store

    public init(store: any Store) {
        self.store = store
    }

    /// Overrides `channels` of `key` for `user`. Rows are written only for users of the directory (an orphan row
    /// would make every later import fail validation): an unknown user is `APIError.notFound("user")`.
    public func save(
        user: String,
        key: String,
        channels: [Channel: Bool],
        catalog: Catalog
    ) async throws -> PreferenceMatrixRow {
        guard try await store.directoryRecordExists(.user(user)) else { throw APIError.notFound("user") }
        return try await store.savePreferenceOverride(user: user, key: key, channels: channels, catalog: catalog)
    }

    /// Drops `user`'s rows for `key`; answers the row back at its defaults.
    public func reset(user: String, key: String, catalog: Catalog) async throws -> PreferenceMatrixRow {
        try await store.resetPreferences(user: user, key: key, catalog: catalog)
    }
}
