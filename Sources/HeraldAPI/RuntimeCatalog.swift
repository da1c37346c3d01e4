import HeraldCore
import Synchronization

/// The catalog as it stands now: the configuration's keys plus the keys added at run time
/// (`PUT /api/v1/admin/catalog/{key}`, persisted in the store). Reads take a lock and copy a value; every matrix
/// built after an upsert shows the new key, and a configuration reload keeps the run-time keys.
public final class RuntimeCatalog: Sendable {
    private struct State {
        var base: Catalog
        var added: [String: CatalogEntry]
        var combined: Catalog
    }

    private let state: Mutex<State>

    /// `base` from the configuration, `added` from the store.
    public init(base: Catalog, added: [CatalogEntry] = []) {
        var addedByKey: [String: CatalogEntry] = [:]
        for entry in added where !Catalog.isBuiltIn(entry.key) { addedByKey[entry.key] = entry }
        state = Mutex(State(base: base, added: addedByKey, combined: Self.combine(base, addedByKey)))
    }

    /// The current catalog.
    public var current: Catalog { state.withLock { $0.combined } }

    /// Replaces the configuration's part (SIGHUP) and returns the new catalog; run-time keys stay.
    @discardableResult
    public func replace(base: Catalog) -> Catalog {
        state.withLock { state in
            state.base = base
            state.combined = Self.combine(base, state.added)
            return state.combined
        }
    }

    /// Adds or replaces a run-time entry and returns the new catalog; built-in keys are refused.
    @discardableResult
    public func upsert(_ entry: CatalogEntry) throws(FieldError) -> Catalog {
        if Catalog.isBuiltIn(entry.key) {
            throw FieldError(field: "key", message: "\"\(entry.key)\" is a built-in key and cannot be redefined")
        }
        return state.withLock { state in
            state.added[entry.key] = entry
            state.combined = Self.combine(state.base, state.added)
            return state.combined
        }
    }

    private static func combine(_ base: Catalog, _ added: [String: CatalogEntry]) -> Catalog {
        var catalog = base
        for key in added.keys.sorted() {
            try? catalog.upsert(added[key]!)
        }
        return catalog
    }
}
