import Foundation
import HeraldCore
import PostgresNIO

/// The store operations the HTTP API adds: listings with cursors, directory removals and run-time catalog keys.
extension PostgresStore {
    public func listEvents(_ query: EventListQuery) async throws -> [EventSummary] {
        guard query.limit > 0 else { return [] }
        let logger = self.logger
        return try await run("listEvents") { connection in
            // NULL filters match everything; the cursor is the event's seq.
            let rows = try await connection.query(
                """
                SELECT seq, id, key, state, organization, project, accepted_at FROM herald.events
                WHERE (\(query.state?.rawValue)::text IS NULL OR state = \(query.state?.rawValue))
                  AND (\(query.key)::text IS NULL OR key = \(query.key))
                  AND (\(query.after)::bigint IS NULL OR seq < \(query.after))
                ORDER BY seq DESC LIMIT \(query.limit)
                """,
                logger: logger
            )
            var summaries: [EventSummary] = []
            for try await (seq, id, key, state, organization, project, acceptedAt) in rows.decode(
                (Int64, String, String, String, String, String?, Date).self
            ) {
                summaries.append(
                    EventSummary(
                        sequence: seq,
                        id: id,
                        key: key,
                        state: try Self.eventState(state),
                        organization: organization,
                        project: project,
                        acceptedAt: acceptedAt
                    )
                )
            }
            return summaries
        }
    }

    /// The API's state of a stored event state (`rejected` outbox events read as fanned out: nothing waits).
    static func eventState(_ stored: String) throws -> EventState {
        if stored == "rejected" { return .fannedOut }
        return try parse(EventState.self, stored, column: "event state")
    }

    public func listDeliveries(_ query: DeliveryListQuery) async throws -> [Delivery] {
        guard query.limit > 0 else { return [] }
        let logger = self.logger
        return try await run("listDeliveries") { connection in
            try await Self.fetchDeliveries(
                connection,
                """
                SELECT \(unescaped: DeliveryColumns.list) FROM herald.deliveries
                WHERE (\(query.state?.rawValue)::text IS NULL OR state = \(query.state?.rawValue))
                  AND (\(query.channel?.rawValue)::text IS NULL OR channel = \(query.channel?.rawValue))
                  AND (\(query.before)::bigint IS NULL OR id < \(query.before))
                ORDER BY id DESC LIMIT \(query.limit)
                """,
                logger: logger
            )
        }
    }

    public func updateDirectory(
        removing references: [DirectoryRecordReference],
        upserting document: DirectoryDocument,
        now: Date
    ) async throws {
        let prepared = try PreparedDirectoryImport(document)
        let logger = self.logger
        try await transaction("updateDirectory") { connection in
            for reference in references {
                try await Self.remove(reference, connection, logger: logger)
            }
            try await Self.applyImport(prepared, connection, logger: logger)
            try await Self.bumpDirectoryVersion(connection, logger: logger)
        }
    }

    private static func remove(
        _ reference: DirectoryRecordReference,
        _ connection: PostgresConnection,
        logger: Logger
    ) async throws {
        func removeRecord(_ kind: String, _ id: String) async throws {
            try await connection.query(
                "DELETE FROM herald.directory_records WHERE kind = \(kind) AND id = \(id)",
                logger: logger
            )
        }
        func removeOwned(by party: DirectoryParty) async throws {
            let (kind, id) = party.storedColumns
            try await connection.query(
                "DELETE FROM herald.preferences WHERE owner_kind = \(kind) AND owner_id = \(id)",
                logger: logger
            )
            try await connection.query(
                "DELETE FROM herald.subscriptions WHERE party_kind = \(kind) AND party_id = \(id)",
                logger: logger
            )
        }
        switch reference {
        case .organization(let id):
            try await removeRecord("organization", id)
        case .user(let id):
            try await removeRecord("user", id)
            try await removeOwned(by: .user(id))
        case .team(let id):
            try await removeRecord("team", id)
            try await removeOwned(by: .team(id))
        case .project(let id):
            try await removeRecord("project", id)
            try await connection.query("DELETE FROM herald.subscriptions WHERE project = \(id)", logger: logger)
        case .subscription(let project, let issue, let party):
            let (kind, id) = party.storedColumns
            try await connection.query(
                """
                DELETE FROM herald.subscriptions
                WHERE project = \(project) AND issue = \(issue) AND party_kind = \(kind) AND party_id = \(id)
                """,
                logger: logger
            )
        }
    }

    public func directoryRecordExists(_ reference: DirectoryRecordReference) async throws -> Bool {
        let logger = self.logger
        return try await run("directoryRecordExists") { connection in
            let query: PostgresQuery
            switch reference {
            case .organization(let id):
                query = "SELECT 1 FROM herald.directory_records WHERE kind = 'organization' AND id = \(id)"
            case .user(let id):
                query = "SELECT 1 FROM herald.directory_records WHERE kind = 'user' AND id = \(id)"
            case .team(let id):
                query = "SELECT 1 FROM herald.directory_records WHERE kind = 'team' AND id = \(id)"
            case .project(let id):
                query = "SELECT 1 FROM herald.directory_records WHERE kind = 'project' AND id = \(id)"
            case .subscription(let project, let issue, let party):
                let (kind, id) = party.storedColumns
                query = """
                    SELECT 1 FROM herald.subscriptions
                    WHERE project = \(project) AND issue = \(issue) AND party_kind = \(kind) AND party_id = \(id)
                    """
            }
            return try await !connection.query(query, logger: logger).collect().isEmpty
        }
    }

    public func storedCatalogEntries() async throws -> [CatalogEntry] {
        let logger = self.logger
        let bodies: [Data] = try await run("storedCatalogEntries") { connection in
            var bodies: [Data] = []
            let rows = try await connection.query(
                "SELECT body FROM herald.catalog_entries ORDER BY key",
                logger: logger
            )
            for try await body in rows.decode(Data.self) { bodies.append(body) }
            return bodies
        }
        let decoder = JSONDecoder()
        return try bodies.map { try decoder.decode(CatalogEntry.self, from: $0) }
    }

    public func saveCatalogEntry(_ entry: CatalogEntry) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = ByteBuffer(bytes: try encoder.encode(entry))
        let logger = self.logger
        try await run("saveCatalogEntry") { connection in
            try await connection.query(
                """
                INSERT INTO herald.catalog_entries (key, body) VALUES (\(entry.key), \(body))
                ON CONFLICT (key) DO UPDATE SET body = excluded.body
                """,
                logger: logger
            )
        }
    }
}
