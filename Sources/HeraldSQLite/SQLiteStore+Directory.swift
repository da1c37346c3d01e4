import Foundation
import GRDB
import HeraldCore

extension SQLiteStore {
    /// Upserts every record of `document` in one transaction and bumps the directory version.
    ///
    /// Organizations, users, teams and projects replace the stored record with the same id whole (a team's
    /// member list, a project's routes); subscriptions replace the row of the same (project, issue,
    /// subscriber), including its active flag (an import is authoritative); preference rows replace the row of
    /// the same identity. Records the document does not name are kept. Within the document a later record
    /// replaces an earlier one with the same key.
    ///
    /// - Throws: `InvalidDirectoryRecord` (nothing stored) for a subscription or preference row naming neither
    ///   a user nor a team, which validation refuses before an import.
    public func importDirectory(_ document: DirectoryDocument, now: Date) async throws {
        // Encode before taking the write lock: the lock is shared with every other writer.
        let prepared = try PreparedDirectoryImport(document)
        try await write("importDirectory") { db in
            try Self.applyImport(prepared, db)
            try Self.bumpDirectoryVersion(db)
        }
    }

    /// Upserts an encoded document inside the caller's transaction (shared by `importDirectory` and
    /// `updateDirectory`).
    static func applyImport(_ prepared: PreparedDirectoryImport, _ db: Database) throws {
        let (records, subscriptions, preferences) = (prepared.records, prepared.subscriptions, prepared.preferences)
        let upsertRecord = try db.cachedStatement(
            sql: """
                INSERT INTO directory_records (kind, id, body) VALUES (?, ?, ?)
                ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body
                """
        )
        for record in records.all {
            try upsertRecord.execute(arguments: [record.kind.rawValue, record.id, record.body])
        }
        let upsertSubscription = try db.cachedStatement(
            sql: """
                INSERT INTO subscriptions (project, issue, party_kind, party_id, active, reason)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (project, issue, party_kind, party_id)
                DO UPDATE SET active = excluded.active, reason = excluded.reason
                """
        )
        for subscription in subscriptions {
            try upsertSubscription.execute(arguments: subscription.rowArguments)
        }
        let upsertPreference = try Self.upsertPreferenceStatement(db)
        for preference in preferences {
            try upsertPreference.execute(arguments: preference.key.arguments + [preference.value])
        }
    }

    /// Every directory record, read in one transaction: organizations, users, teams and projects by id,
    /// subscriptions by (project, issue, subscriber kind, subscriber id), preferences by identity.
    public func preferenceRows(of party: DirectoryParty) async throws -> [PreferenceRow] {
        try readNow("preferenceRows") { db in try Self.preferenceRows(of: party, db) }
    }

    /// The rows `party` owns, through a cached statement (the matrix is read on every settings screen).
    static func preferenceRows(of party: DirectoryParty, _ db: Database) throws -> [PreferenceRow] {
        let (kind, id) = party.storedColumns
        let statement = try db.cachedStatement(
            sql: """
                SELECT owner_kind, owner_id, scope, scope_id, subject, channel, value FROM preferences
                WHERE owner_kind = ? AND owner_id = ? ORDER BY scope, scope_id, subject, channel
                """
        )
        return try Row.fetchAll(statement, arguments: [kind, id]).map(PreferenceKey.decode)
    }

    public func loadDirectory() async throws -> DirectoryDocument {
        var stored: StoredDirectory = try await read("loadDirectory") { db in
            var stored = StoredDirectory()
            let records = try Row.fetchCursor(db, sql: "SELECT kind, body FROM directory_records ORDER BY kind, id")
            while let row = try records.next() {
                let kind: String = try row.decode(atIndex: 0)
                let body: Data = try row.decode(atIndex: 1)
                switch DirectoryRecordKind(rawValue: kind) {
                case .organization: stored.organizations.append(body)
                case .user: stored.users.append(body)
                case .team: stored.teams.append(body)
                case .project: stored.projects.append(body)
                case nil: throw UnrecognisedStoredValue(column: "directory record kind", value: kind)
                }
            }
            let subscriptions = try Row.fetchCursor(
                db,
                sql: """
                    SELECT project, issue, party_kind, party_id, active, reason FROM subscriptions
                    ORDER BY project, issue, party_kind, party_id
                    """
            )
            while let row = try subscriptions.next() {
                stored.subscriptions.append(try SubscriptionKey.decode(row))
            }
            let preferences = try Row.fetchCursor(
                db,
                sql: """
                    SELECT owner_kind, owner_id, scope, scope_id, subject, channel, value FROM preferences
                    ORDER BY owner_kind, owner_id, scope, scope_id, subject, channel
                    """
            )
            while let row = try preferences.next() {
                stored.preferences.append(try PreferenceKey.decode(row))
            }
            return stored
        }
        return try stored.takeDocument()
    }

    /// The directory version: one probe of the `meta` table, cheap enough to poll for every fan-out batch.
    ///
    /// It is a counter in the file itself, so writes by other processes (`herald import`) are seen too.
    public func directoryVersion() async throws -> Int64 {
        try await read("directoryVersion") { db in
            let statement = try db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'directory_version'")
            return try Int64.fetchOne(statement) ?? 0
        }
    }

    /// Removes the preference rows with the given identities, then upserts `rows` (so a row both removed and
    /// upserted ends up stored), in one transaction; bumps the directory version. With nothing to remove or
    /// upsert, nothing is written and the version stays.
    ///
    /// - Throws: `InvalidDirectoryRecord` (nothing changed) for a row naming neither a user nor a team.
    public func replacePreferences(removing: [PreferenceRowIdentity], upserting rows: [PreferenceRow]) async throws {
        _ = try await writePreferences(removing: removing, upserting: rows, returningRowsOf: nil)
    }

    public func replacePreferences(
        removing: [PreferenceRowIdentity],
        upserting rows: [PreferenceRow],
        returningRowsOf party: DirectoryParty
    ) async throws -> [PreferenceRow] {
        try await writePreferences(removing: removing, upserting: rows, returningRowsOf: party)
    }

    /// One write transaction: the removals, the upserts, the version bump, and `party`'s rows after them.
    private func writePreferences(
        removing: [PreferenceRowIdentity],
        upserting rows: [PreferenceRow],
        returningRowsOf party: DirectoryParty?
    ) async throws -> [PreferenceRow] {
        guard !removing.isEmpty || !rows.isEmpty else {
            guard let party else { return [] }
            return try await preferenceRows(of: party)
        }
        // An identity without an owner matches no stored row: there is nothing to remove.
        let removals = removing.compactMap { try? PreferenceKey($0, field: "removing") }
        let upserts = try rows.enumerated().map { index, row in
            (key: try PreferenceKey(row.identity, field: "upserting[\(index)]"), value: row.value.rawValue)
        }
        return try await write("replacePreferences") { db in
            let delete = try db.cachedStatement(
                sql: """
                    DELETE FROM preferences
                    WHERE owner_kind = ? AND owner_id = ? AND scope = ? AND scope_id = ? AND subject = ? AND channel = ?
                    """
            )
            for key in removals {
                try delete.execute(arguments: key.arguments)
            }
            let upsert = try Self.upsertPreferenceStatement(db)
            for row in upserts {
                try upsert.execute(arguments: row.key.arguments + [row.value])
            }
            try Self.bumpDirectoryVersion(db)
            return try party.map { try Self.preferenceRows(of: $0, db) } ?? []
        }
    }

    /// Applies the implicit subscription changes of one fanned-out event inside `completeFanOut`'s transaction,
    /// without bumping the directory version (fan-out keeps its own snapshot current).
    ///
    /// - `.subscribe(row)` stores the row unless the subscriber already has one for the issue: an inactive row is
    ///   an explicit unsubscribe and is never re-activated, and an active row keeps the reason it was first
    ///   stored with (SPEC §5.3, `ImplicitSubscriptions`), should fan-out's snapshot have been out of date.
    /// - `.remove(row)` deletes the subscriber's row for the issue when it is active; an explicit unsubscribe
    ///   stays.
    ///
    /// A change naming neither a user nor a team cannot be stored and is skipped rather than failing the batch.
    static func applySubscriptionChanges(_ changes: [SubscriptionChange], _ db: Database) throws {
        guard !changes.isEmpty else { return }
        let subscribe = try db.cachedStatement(
            sql: """
                INSERT INTO subscriptions (project, issue, party_kind, party_id, active, reason)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (project, issue, party_kind, party_id) DO NOTHING
                """
        )
        let remove = try db.cachedStatement(
            sql: """
                DELETE FROM subscriptions
                WHERE project = ? AND issue = ? AND party_kind = ? AND party_id = ? AND active = 1
                """
        )
        for change in changes {
            switch change {
            case .subscribe(let row):
                guard let key = try? SubscriptionKey(row, field: "subscriptionChanges") else { continue }
                try subscribe.execute(arguments: key.rowArguments)
            case .remove(let row):
                guard let key = try? SubscriptionKey(row, field: "subscriptionChanges") else { continue }
                try remove.execute(arguments: key.keyArguments)
            }
        }
    }

    /// The statement upserting one preference row: the six identity columns, then the value.
    private static func upsertPreferenceStatement(_ db: Database) throws -> Statement {
        try db.cachedStatement(
            sql: """
                INSERT INTO preferences (owner_kind, owner_id, scope, scope_id, subject, channel, value)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (owner_kind, owner_id, scope, scope_id, subject, channel)
                DO UPDATE SET value = excluded.value
                """
        )
    }

    /// Records an address suppression (the first reason stays) and bumps the directory version.
    public func suppressAddress(_ suppression: AddressSuppression) async throws {
        try await write("suppressAddress") { db in
            try db.execute(
                sql: """
                    INSERT INTO address_suppressions (channel, address, reason, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (channel, address) DO NOTHING
                    """,
                arguments: [
                    suppression.channel.rawValue, suppression.address, suppression.reason,
                    suppression.createdAt.storeMillis,
                ]
            )
            if db.changesCount > 0 { try Self.bumpDirectoryVersion(db) }
        }
    }

    /// Every suppressed address, by channel and address.
    public func addressSuppressions() async throws -> [AddressSuppression] {
        try await read("addressSuppressions") { db in
            try Row.fetchAll(
                db,
                sql: "SELECT channel, address, reason, created_at FROM address_suppressions ORDER BY channel, address"
            ).compactMap { row -> AddressSuppression? in
                guard let channel = Channel(rawValue: row[0]) else { return nil }
                return AddressSuppression(
                    channel: channel,
                    address: row[1],
                    reason: row[2],
                    createdAt: Date(storeMillis: row[3])
                )
            }
        }
    }

    /// Increments the directory version (creating it if the row is missing).
    static func bumpDirectoryVersion(_ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO meta (key, value) VALUES ('directory_version', 1)
                ON CONFLICT (key) DO UPDATE SET value = value + 1
                """
        ).execute()
    }
}

/// A directory record the store cannot key: a subscription or preference row naming neither a user nor a team.
public struct InvalidDirectoryRecord: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offending field, e.g. `subscriptions[3]`.
    public var field: String

    /// The field and the problem.
    public var description: String { "\(field): must name a user or a team" }
}

/// The `directory_records.kind` of each whole-record kind.
private enum DirectoryRecordKind: String {
    case organization
    case user
    case team
    case project
}

/// A document encoded for the directory tables before the write lock is taken.
struct PreparedDirectoryImport: Sendable {
    fileprivate var records: DirectoryRecords
    fileprivate var subscriptions: [SubscriptionKey]
    fileprivate var preferences: [(key: PreferenceKey, value: String)]

    init(_ document: DirectoryDocument) throws {
        records = try DirectoryRecords(document)
        subscriptions = try document.subscriptions.enumerated().map { index, row in
            try SubscriptionKey(row, field: "subscriptions[\(index)]")
        }
        preferences = try document.preferences.enumerated().map { index, row in
            (key: try PreferenceKey(row.identity, field: "preferences[\(index)]"), value: row.value.rawValue)
        }
    }
}

/// The records of a document encoded for `directory_records`, in document order.
private struct DirectoryRecords: Sendable {
    var all: [(kind: DirectoryRecordKind, id: String, body: Data)] = []

    init(_ document: DirectoryDocument) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        all.reserveCapacity(
            document.organizations.count + document.users.count + document.teams.count + document.projects.count
        )
        for record in document.organizations {
            all.append((.organization, record.id, try encoder.encode(record)))
        }
        for record in document.users {
            all.append((.user, record.id, try encoder.encode(record)))
        }
        for record in document.teams {
            all.append((.team, record.id, try encoder.encode(record)))
        }
        for record in document.projects {
            all.append((.project, record.id, try encoder.encode(record)))
        }
    }
}

/// A subscription row as the `subscriptions` columns.
private struct SubscriptionKey: Sendable {
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

    /// Every column, in the order of the `INSERT`s.
    var rowArguments: StatementArguments { [project, issue, partyKind, partyId, active, reason] }

    /// The primary key columns.
    var keyArguments: StatementArguments { [project, issue, partyKind, partyId] }

    /// A row selected as `project, issue, party_kind, party_id, active, reason`.
    static func decode(_ row: Row) throws -> IssueSubscription {
        let project: String = try row.decode(atIndex: 0)
        let issue: String = try row.decode(atIndex: 1)
        let active: Bool = try row.decode(atIndex: 4)
        let reason = try parse(SubscriptionReason.self, try row.decode(atIndex: 5), column: "subscription reason")
        switch try DirectoryParty(storedKind: try row.decode(atIndex: 2), id: try row.decode(atIndex: 3)) {
        case .user(let id):
            return IssueSubscription(issue: issue, project: project, user: id, active: active, reason: reason)
        case .team(let id):
            return IssueSubscription(issue: issue, project: project, team: id, active: active, reason: reason)
        }
    }
}

/// A preference row identity as the `preferences` key columns (`channel` is `''` for every channel).
private struct PreferenceKey: Sendable {
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

    /// The six key columns, in the order of the statements.
    var arguments: StatementArguments { [ownerKind, ownerId, scope, scopeId, subject, channel] }

    /// A row selected as `owner_kind, owner_id, scope, scope_id, subject, channel, value`.
    static func decode(_ row: Row) throws -> PreferenceRow {
        let channel: String = try row.decode(atIndex: 5)
        return PreferenceRow(
            owner: try DirectoryParty(storedKind: try row.decode(atIndex: 0), id: try row.decode(atIndex: 1)),
            scope: try parse(PreferenceScope.self, try row.decode(atIndex: 2), column: "preference scope"),
            scopeId: try row.decode(atIndex: 3),
            subject: try row.decode(atIndex: 4),
            channel: channel.isEmpty ? nil : try parse(Channel.self, channel, column: "preference channel"),
            value: try parse(PreferenceValue.self, try row.decode(atIndex: 6), column: "preference value")
        )
    }
}
