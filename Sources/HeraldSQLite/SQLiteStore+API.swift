import Foundation
import GRDB
import HeraldCore

/// The store operations the HTTP API adds: listings with cursors, directory removals and run-time catalog keys.
extension SQLiteStore {
    public func listEvents(_ query: EventListQuery) async throws -> [EventSummary] {
        guard query.limit > 0 else { return [] }
        return try await read("listEvents") { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let state = query.state {
                conditions.append("state = ?")
                arguments += [state.rawValue]
            }
            if let key = query.key {
                conditions.append("key = ?")
                arguments += [key]
            }
            if let after = query.after {
                conditions.append("seq < ?")
                arguments += [after]
            }
            arguments += [query.limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, id, key, state, organization, project, accepted_at FROM events
                    \(filter) ORDER BY seq DESC LIMIT ?
                    """,
                arguments: arguments
            ).map { row in
                EventSummary(
                    sequence: try row.decode(atIndex: 0),
                    id: try row.decode(atIndex: 1),
                    key: try row.decode(atIndex: 2),
                    state: try parse(EventState.self, try row.decode(atIndex: 3), column: "event state"),
                    organization: try row.decode(atIndex: 4),
                    project: try row.decode(atIndex: 5),
                    acceptedAt: Date(storeMillis: try row.decode(atIndex: 6))
                )
            }
        }
    }

    public func listDeliveries(_ query: DeliveryListQuery) async throws -> [Delivery] {
        guard query.limit > 0 else { return [] }
        return try await read("listDeliveries") { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let state = query.state {
                conditions.append("state = ?")
                arguments += [state.rawValue]
            }
            if let channel = query.channel {
                conditions.append("channel = ?")
                arguments += [channel.rawValue]
            }
            if let before = query.before {
                conditions.append("id < ?")
                arguments += [before]
            }
            arguments += [query.limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db,
                sql: "SELECT \(DeliveryRow.columns) FROM deliveries \(filter) ORDER BY id DESC LIMIT ?",
                arguments: arguments
            ).map(DeliveryRow.decode)
        }
    }

    public func updateDirectory(
        removing references: [DirectoryRecordReference],
        upserting document: DirectoryDocument,
        now: Date
    ) async throws {
        let prepared = try PreparedDirectoryImport(document)
        try await write("updateDirectory") { db in
            for reference in references {
                try Self.remove(reference, db)
            }
            try Self.applyImport(prepared, db)
            try Self.bumpDirectoryVersion(db)
        }
    }

    private static func remove(_ reference: DirectoryRecordReference, _ db: Database) throws {
        func removeRecord(_ kind: String, _ id: String) throws {
            try db.execute(sql: "DELETE FROM directory_records WHERE kind = ? AND id = ?", arguments: [kind, id])
        }
        func removeOwned(by party: DirectoryParty) throws {
            let (kind, id) = party.storedColumns
            try db.execute(
                sql: "DELETE FROM preferences WHERE owner_kind = ? AND owner_id = ?",
                arguments: [kind, id]
            )
            try db.execute(
                sql: "DELETE FROM subscriptions WHERE party_kind = ? AND party_id = ?",
                arguments: [kind, id]
            )
        }
        switch reference {
        case .organization(let id):
            try removeRecord("organization", id)
        case .user(let id):
            try removeRecord("user", id)
            try removeOwned(by: .user(id))
        case .team(let id):
            try removeRecord("team", id)
            try removeOwned(by: .team(id))
        case .project(let id):
            try removeRecord("project", id)
            try db.execute(sql: "DELETE FROM subscriptions WHERE project = ?", arguments: [id])
        case .subscription(let project, let issue, let party):
            let (kind, id) = party.storedColumns
            try db.execute(
                sql: "DELETE FROM subscriptions WHERE project = ? AND issue = ? AND party_kind = ? AND party_id = ?",
                arguments: [project, issue, kind, id]
            )
        }
    }

    public func directoryRecordExists(_ reference: DirectoryRecordReference) async throws -> Bool {
        try readNow("directoryRecordExists") { db in
            func record(_ kind: String, _ id: String) throws -> Bool {
                try Int.fetchOne(
                    try db.cachedStatement(sql: "SELECT 1 FROM directory_records WHERE kind = ? AND id = ?"),
                    arguments: [kind, id]
                ) != nil
            }
            switch reference {
            case .organization(let id): return try record("organization", id)
            case .user(let id): return try record("user", id)
            case .team(let id): return try record("team", id)
            case .project(let id): return try record("project", id)
            case .subscription(let project, let issue, let party):
                let (kind, id) = party.storedColumns
                return try Int.fetchOne(
                    db,
                    sql: """
                        SELECT 1 FROM subscriptions
                        WHERE project = ? AND issue = ? AND party_kind = ? AND party_id = ?
                        """,
                    arguments: [project, issue, kind, id]
                ) != nil
            }
        }
    }

    public func storedCatalogEntries() async throws -> [CatalogEntry] {
        let bodies: [Data] = try await read("storedCatalogEntries") { db in
            try Data.fetchAll(
                db,
                sql: "SELECT value FROM meta WHERE key >= 'catalog:' AND key < 'catalog;' ORDER BY key"
            )
        }
        let decoder = JSONDecoder()
        return try bodies.map { try decoder.decode(CatalogEntry.self, from: $0) }
    }

    public func saveCatalogEntry(_ entry: CatalogEntry) async throws {
        // Run-time keys live in `meta` as `catalog:<key>` → the entry's JSON, so no migration is needed.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = try encoder.encode(entry)
        try await write("saveCatalogEntry") { db in
            try db.execute(
                sql: """
                    INSERT INTO meta (key, value) VALUES (?, ?)
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """,
                arguments: ["catalog:\(entry.key)", body]
            )
        }
    }
}
