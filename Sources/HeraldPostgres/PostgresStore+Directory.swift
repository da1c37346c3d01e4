import Foundation
import HeraldCore
import PostgresNIO

extension PostgresStore {
    /// Upserts every record of `document` in one transaction and bumps the directory version (which every
    /// instance's fan-out reads before each batch, and a NOTIFY on `herald_directory` wakes them at once).
    ///
    /// Organizations, users, teams and projects replace the stored record with the same id whole; subscriptions
    /// replace the row of the same (project, issue, subscriber); preference rows replace the row of the same
    /// identity. Records the document does not name are kept; a later record in the document replaces an
    /// earlier one with the same key.
    public func importDirectory(_ document: DirectoryDocument, now: Date) async throws {
        let prepared = try PreparedDirectoryImport(document)
        let logger = self.logger
        try await transaction("importDirectory") { connection in
            try await Self.applyImport(prepared, connection, logger: logger)
            try await Self.bumpDirectoryVersion(connection, logger: logger)
        }
    }

    /// Upserts an encoded document inside the caller's transaction (`importDirectory`, `updateDirectory`).
    static func applyImport(
        _ prepared: PreparedDirectoryImport,
        _ connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let (records, subscriptions, preferences) = (prepared.records, prepared.subscriptions, prepared.preferences)
        for chunk in records.deduplicated.chunked(1_000) {
            let kinds = chunk.map(\.kind)
            let ids = chunk.map(\.id)
            let bodies = chunk.map { ByteBuffer(bytes: $0.body) }
            try await connection.query(
                """
                INSERT INTO herald.directory_records (kind, id, body)
                SELECT * FROM unnest(\(kinds)::text[], \(ids)::text[], \(bodies)::bytea[])
                ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body
                """,
                logger: logger
            )
        }
        for chunk in SubscriptionColumns.deduplicated(subscriptions).chunked(1_000) {
            try await connection.query(
                """
                INSERT INTO herald.subscriptions (project, issue, party_kind, party_id, active, reason)
                SELECT * FROM unnest(\(chunk.map(\.project))::text[], \(chunk.map(\.issue))::text[],
                    \(chunk.map(\.partyKind))::text[], \(chunk.map(\.partyId))::text[],
                    \(chunk.map(\.active))::boolean[], \(chunk.map(\.reason))::text[])
                ON CONFLICT (project, issue, party_kind, party_id)
                DO UPDATE SET active = excluded.active, reason = excluded.reason
                """,
                logger: logger
            )
        }
        try await Self.upsertPreferences(preferences, connection, logger: logger)
    }

    /// Every directory record, read in one snapshot.
    public func loadDirectory() async throws -> DirectoryDocument {
        let logger = self.logger
        var stored: StoredDirectory = try await transaction("loadDirectory") { connection in
            try await connection.query(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                logger: logger
            )
            var stored = StoredDirectory()
            let records = try await connection.query(
                "SELECT kind, body FROM herald.directory_records ORDER BY kind, id",
                logger: logger
            )
            for try await (kind, body) in records.decode((String, Data).self) {
                switch kind {
                case "organization": stored.organizations.append(body)
                case "user": stored.users.append(body)
                case "team": stored.teams.append(body)
                case "project": stored.projects.append(body)
                default: throw UnrecognisedStoredValue(column: "directory record kind", value: kind)
                }
            }
            let subscriptions = try await connection.query(
                """
                SELECT project, issue, party_kind, party_id, active, reason FROM herald.subscriptions
                ORDER BY project, issue, party_kind, party_id
                """,
                logger: logger
            )
            for try await row in subscriptions.decode((String, String, String, String, Bool, String).self) {
                stored.subscriptions.append(try SubscriptionColumns.decode(row))
            }
            let preferences = try await connection.query(
                """
                SELECT owner_kind, owner_id, scope, scope_id, subject, channel, value FROM herald.preferences
                ORDER BY owner_kind, owner_id, scope, scope_id, subject, channel
                """,
                logger: logger
            )
            for try await row in preferences.decode((String, String, String, String, String, String, String).self) {
                stored.preferences.append(try PreferenceColumns.decode(row))
            }
            return stored
        }
        return try stored.takeDocument()
    }

    /// The directory version: one row, cheap enough to read before every fan-out batch.
    public func directoryVersion() async throws -> Int64 {
        let logger = self.logger
        return try await run("directoryVersion") { connection in
            let rows = try await connection.query("SELECT value FROM herald.directory_version", logger: logger)
            for try await value in rows.decode(Int64.self) { return value }
            return 0
        }
    }

    /// The preference rows owned by `party`, through the primary key's prefix.
    public func preferenceRows(of party: DirectoryParty) async throws -> [PreferenceRow] {
        let (kind, id) = party.storedColumns
        let logger = self.logger
        return try await run("preferenceRows") { connection in
            let rows = try await connection.query(
                """
                SELECT owner_kind, owner_id, scope, scope_id, subject, channel, value FROM herald.preferences
                WHERE owner_kind = \(kind) AND owner_id = \(id) ORDER BY scope, scope_id, subject, channel
                """,
                logger: logger
            )
            var result: [PreferenceRow] = []
            for try await row in rows.decode((String, String, String, String, String, String, String).self) {
                result.append(try PreferenceColumns.decode(row))
            }
            return result
        }
    }

    /// Removes the preference rows with the given identities, then upserts `rows`, in one transaction; bumps
    /// the directory version. With nothing to remove or upsert, nothing is written.
    public func replacePreferences(removing: [PreferenceRowIdentity], upserting rows: [PreferenceRow]) async throws {
        guard !removing.isEmpty || !rows.isEmpty else { return }
        _ = try await replacePreferences(removing: removing, upserting: rows, reading: nil)
    }

    /// `replacePreferences`, then the rows `party` owns as the same transaction leaves them.
    public func replacePreferences(
        removing: [PreferenceRowIdentity],
        upserting rows: [PreferenceRow],
        returningRowsOf party: DirectoryParty
    ) async throws -> [PreferenceRow] {
        try await replacePreferences(removing: removing, upserting: rows, reading: party)
    }

    private func replacePreferences(
        removing: [PreferenceRowIdentity],
        upserting rows: [PreferenceRow],
        reading party: DirectoryParty?
    ) async throws -> [PreferenceRow] {
        let removals = removing.compactMap { try? PreferenceColumns($0, field: "removing") }
        let upserts = try rows.enumerated().map { index, row in
            (key: try PreferenceColumns(row.identity, field: "upserting[\(index)]"), value: row.value.rawValue)
        }
        let logger = self.logger
        let owner = party.map { party in
            let (kind, id) = party.storedColumns
            return (kind: kind, id: id)
        }
        return try await transaction("replacePreferences") { connection in
            if !removals.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM herald.preferences p USING unnest(\(removals.map(\.ownerKind))::text[],
                        \(removals.map(\.ownerId))::text[], \(removals.map(\.scope))::text[],
                        \(removals.map(\.scopeId))::text[], \(removals.map(\.subject))::text[],
                        \(removals.map(\.channel))::text[]) AS r(owner_kind, owner_id, scope, scope_id, subject, channel)
                    WHERE p.owner_kind = r.owner_kind AND p.owner_id = r.owner_id AND p.scope = r.scope
                    AND p.scope_id = r.scope_id AND p.subject = r.subject AND p.channel = r.channel
                    """,
                    logger: logger
                )
            }
            if !removals.isEmpty || !upserts.isEmpty {
                try await Self.upsertPreferences(upserts, connection, logger: logger)
                try await Self.bumpDirectoryVersion(connection, logger: logger)
            }
            guard let owner else { return [] }
            let rows = try await connection.query(
                """
                SELECT owner_kind, owner_id, scope, scope_id, subject, channel, value FROM herald.preferences
                WHERE owner_kind = \(owner.kind) AND owner_id = \(owner.id) ORDER BY scope, scope_id, subject, channel
                """,
                logger: logger
            )
            var result: [PreferenceRow] = []
            for try await row in rows.decode((String, String, String, String, String, String, String).self) {
                result.append(try PreferenceColumns.decode(row))
            }
            return result
        }
    }

    /// Applies implicit subscription changes inside `completeFanOut`'s transaction, without bumping the
    /// directory version: `.subscribe` never overwrites an existing row (an inactive row is an explicit
    /// unsubscribe), `.remove` deletes only an active row. A change naming neither a user nor a team is skipped.
    static func applySubscriptionChanges(
        _ changes: [SubscriptionChange],
        _ connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard !changes.isEmpty else { return }
        // Applied in order, as the embedded store does: a remove after a subscribe of the same row removes it.
        var pending: [(subscribe: Bool, key: SubscriptionColumns)] = []
        for change in changes {
            switch change {
            case .subscribe(let row):
                if let key = try? SubscriptionColumns(row, field: "") { pending.append((true, key)) }
            case .remove(let row):
                if let key = try? SubscriptionColumns(row, field: "") { pending.append((false, key)) }
            }
        }
        for (isSubscribe, key) in pending {
            if isSubscribe {
                try await connection.query(
                    """
                    INSERT INTO herald.subscriptions (project, issue, party_kind, party_id, active, reason)
                    VALUES (\(key.project), \(key.issue), \(key.partyKind), \(key.partyId), \(key.active), \(key.reason))
                    ON CONFLICT (project, issue, party_kind, party_id) DO NOTHING
                    """,
                    logger: logger
                )
            } else {
                try await connection.query(
                    """
                    DELETE FROM herald.subscriptions WHERE project = \(key.project) AND issue = \(key.issue)
                    AND party_kind = \(key.partyKind) AND party_id = \(key.partyId) AND active
                    """,
                    logger: logger
                )
            }
        }
    }

    /// Records an address suppression (the first reason stays); bumps the directory version when it is new.
    public func suppressAddress(_ suppression: AddressSuppression) async throws {
        let logger = self.logger
        try await transaction("suppressAddress") { connection in
            let rows = try await connection.query(
                """
                INSERT INTO herald.address_suppressions (channel, address, reason, created_at)
                VALUES (\(suppression.channel.rawValue), \(suppression.address), \(suppression.reason),
                    \(suppression.createdAt))
                ON CONFLICT (channel, address) DO NOTHING
                RETURNING 1
                """,
                logger: logger
            )
            var inserted = false
            for try await _ in rows.decode(Int.self) { inserted = true }
            if inserted { try await Self.bumpDirectoryVersion(connection, logger: logger) }
        }
    }

    /// Every suppressed address, by channel and address.
    public func addressSuppressions() async throws -> [AddressSuppression] {
        let logger = self.logger
        return try await run("addressSuppressions") { connection in
            let rows = try await connection.query(
                """
                SELECT channel, address, reason, created_at FROM herald.address_suppressions
                ORDER BY channel, address
                """,
                logger: logger
            )
            var result: [AddressSuppression] = []
            for try await (channel, address, reason, createdAt) in rows.decode((String, String, String, Date).self) {
                guard let channel = Channel(rawValue: channel) else { continue }
                result.append(
                    AddressSuppression(channel: channel, address: address, reason: reason, createdAt: createdAt)
                )
            }
            return result
        }
    }

    private static func upsertPreferences(
        _ rows: [(key: PreferenceColumns, value: String)],
        _ connection: PostgresConnection,
        logger: Logger
    ) async throws {
        // A later row for the same identity wins, as with one upsert per row.
        var latest: [PreferenceColumns: String] = [:]
        var order: [PreferenceColumns] = []
        for row in rows {
            if latest.updateValue(row.value, forKey: row.key) == nil { order.append(row.key) }
        }
        for chunk in order.chunked(1_000) {
            let values = chunk.map { latest[$0] ?? "" }
            try await connection.query(
                """
                INSERT INTO herald.preferences (owner_kind, owner_id, scope, scope_id, subject, channel, value)
                SELECT * FROM unnest(\(chunk.map(\.ownerKind))::text[], \(chunk.map(\.ownerId))::text[],
                    \(chunk.map(\.scope))::text[], \(chunk.map(\.scopeId))::text[], \(chunk.map(\.subject))::text[],
                    \(chunk.map(\.channel))::text[], \(values)::text[])
                ON CONFLICT (owner_kind, owner_id, scope, scope_id, subject, channel)
                DO UPDATE SET value = excluded.value
                """,
                logger: logger
            )
        }
    }

    /// Increments the directory version and hints every instance's fan-out to reload its snapshot.
    static func bumpDirectoryVersion(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("UPDATE herald.directory_version SET value = value + 1", logger: logger)
        try await connection.query("SELECT pg_notify('herald_directory', '')", logger: logger)
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

/// A document encoded for the directory tables before a connection is taken.
struct PreparedDirectoryImport: Sendable {
    fileprivate var records: DirectoryRecordRows
    fileprivate var subscriptions: [SubscriptionColumns]
    fileprivate var preferences: [(key: PreferenceColumns, value: String)]

    init(_ document: DirectoryDocument) throws {
        records = try DirectoryRecordRows(document)
        subscriptions = try document.subscriptions.enumerated().map { index, row in
            try SubscriptionColumns(row, field: "subscriptions[\(index)]")
        }
        preferences = try document.preferences.enumerated().map { index, row in
            (key: try PreferenceColumns(row.identity, field: "preferences[\(index)]"), value: row.value.rawValue)
        }
    }
}

/// The records of a document encoded for `directory_records`; a later record with the same kind and id wins.
private struct DirectoryRecordRows: Sendable {
    var deduplicated: [(kind: String, id: String, body: Data)] = []

    init(_ document: DirectoryDocument) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var all: [(kind: String, id: String, body: Data)] = []
        for record in document.organizations { all.append(("organization", record.id, try encoder.encode(record))) }
        for record in document.users { all.append(("user", record.id, try encoder.encode(record))) }
        for record in document.teams { all.append(("team", record.id, try encoder.encode(record))) }
        for record in document.projects { all.append(("project", record.id, try encoder.encode(record))) }
        // One statement cannot upsert the same key twice; keep the last, in its first position.
        var index: [String: Int] = [:]
        for record in all {
            let key = record.kind + "\u{1F}" + record.id
            if let at = index[key] {
                deduplicated[at] = record
            } else {
                index[key] = deduplicated.count
                deduplicated.append(record)
            }
        }
    }
}

/// A subscription row as the `subscriptions` columns.
private struct SubscriptionColumns: Hashable, Sendable {
    var project: String
    var issue: String
    var partyKind: String
    var partyId: String
    var active: Bool
    var reason: String

    init(_ row: IssueSubscription, field: String) throws {
        guard let subscriber = row.subscriber else { throw InvalidDirectoryRecord(field: field) }
        (partyKind, partyId) = subscriber.storedColumns
        project = row.project
        issue = row.issue
        active = row.active
        reason = row.reason.rawValue
    }

    /// The last row for each key, in first-seen order (one upsert statement cannot touch a row twice).
    static func deduplicated(_ rows: [SubscriptionColumns]) -> [SubscriptionColumns] {
        var index: [[String]: Int] = [:]
        var result: [SubscriptionColumns] = []
        for row in rows {
            let key = [row.project, row.issue, row.partyKind, row.partyId]
            if let at = index[key] {
                result[at] = row
            } else {
                index[key] = result.count
                result.append(row)
            }
        }
        return result
    }

    static func decode(_ row: (String, String, String, String, Bool, String)) throws -> IssueSubscription {
        let reason = try parse(SubscriptionReason.self, row.5, column: "subscription reason")
        switch try DirectoryParty(storedKind: row.2, id: row.3) {
        case .user(let id):
            return IssueSubscription(issue: row.1, project: row.0, user: id, active: row.4, reason: reason)
        case .team(let id):
            return IssueSubscription(issue: row.1, project: row.0, team: id, active: row.4, reason: reason)
        }
    }
}

/// A preference row identity as the `preferences` key columns (`channel` is `''` for every channel).
private struct PreferenceColumns: Hashable, Sendable {
    var ownerKind: String
    var ownerId: String
    var scope: String
    var scopeId: String
    var subject: String
    var channel: String

    init(_ identity: PreferenceRowIdentity, field: String) throws {
        let owner: DirectoryParty
        if let user = identity.user {
            owner = .user(user)
        } else if let team = identity.team {
            owner = .team(team)
        } else {
            throw InvalidDirectoryRecord(field: field)
        }
        (ownerKind, ownerId) = owner.storedColumns
        scope = identity.scope.rawValue
        scopeId = identity.scopeId
        subject = identity.subject
        channel = identity.channel?.rawValue ?? ""
    }

    static func decode(_ row: (String, String, String, String, String, String, String)) throws -> PreferenceRow {
        PreferenceRow(
            owner: try DirectoryParty(storedKind: row.0, id: row.1),
            scope: try parse(PreferenceScope.self, row.2, column: "preference scope"),
            scopeId: row.3,
            subject: row.4,
            channel: row.5.isEmpty ? nil : try parse(Channel.self, row.5, column: "preference channel"),
            value: try parse(PreferenceValue.self, row.6, column: "preference value")
        )
    }
}

/// A directory record the store cannot key: a subscription or preference row naming neither a user nor a team.
public struct InvalidDirectoryRecord: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offending field, e.g. `subscriptions[3]`.
    public var field: String

    /// The field and the problem.
    public var description: String { "\(field): must name a user or a team" }
}
