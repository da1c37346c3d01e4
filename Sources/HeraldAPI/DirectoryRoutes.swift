import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// `PUT/GET/DELETE /api/v1/{organizations,users,teams,projects}/{id}`, their listings, and
/// `PUT/DELETE /api/v1/issues/{id}/subscriptions/{userId}` (SPEC §11.3).
///
/// Every write goes through the import path: the body is wrapped as a one-record directory document and
/// parsed with `DirectoryDocument.parse(_:catalog:existing:)` — the code `herald import` runs — so the API and
/// the CLI accept exactly the same records. A delete is refused with 409 when the directory without the record
/// would not validate (a team still listed by a project, an organization with users…), naming the referrers.
public struct DirectoryRoutes: Sendable {
    let dependencies: APIDependencies

    public init(dependencies: APIDependencies) {
        self.dependencies = dependencies
    }

    /// A kind of whole directory record.
    enum Kind: String, CaseIterable, Sendable {
        case organization, user, team, project

        /// The path segment and the document's list name.
        var plural: String { rawValue + "s" }

        func reference(_ id: String) -> DirectoryRecordReference {
            switch self {
            case .organization: .organization(id)
            case .user: .user(id)
            case .team: .team(id)
            case .project: .project(id)
            }
        }

        /// The record with `id` in `document`, as JSON.
        func record(_ id: String, in document: DirectoryDocument) throws -> JSONValue? {
            switch self {
            case .organization: try document.organizations.first { $0.id == id }.map(JSONValue.encoding)
            case .user: try document.users.first { $0.id == id }.map(JSONValue.encoding)
            case .team: try document.teams.first { $0.id == id }.map(JSONValue.encoding)
            case .project: try document.projects.first { $0.id == id }.map(JSONValue.encoding)
            }
        }

        /// Every record of the kind as (id, JSON), sorted by id.
        func records(in document: DirectoryDocument) throws -> [(String, JSONValue)] {
            let encoded: [(String, JSONValue)]
            switch self {
            case .organization: encoded = try document.organizations.map { ($0.id, try JSONValue.encoding($0)) }
            case .user: encoded = try document.users.map { ($0.id, try JSONValue.encoding($0)) }
            case .team: encoded = try document.teams.map { ($0.id, try JSONValue.encoding($0)) }
            case .project: encoded = try document.projects.map { ($0.id, try JSONValue.encoding($0)) }
            }
            return encoded.sorted { $0.0 < $1.0 }
        }
    }

    public func register(on router: Router<APIRequestContext>) {
        for kind in Kind.allCases {
            router.get("/api/v1/\(kind.plural)") { request, context in try await list(kind, request, context) }
            router.get("/api/v1/\(kind.plural)/{id}") { request, context in try await get(kind, request, context) }
            router.put("/api/v1/\(kind.plural)/{id}") { request, context in try await put(kind, request, context) }
            router.delete("/api/v1/\(kind.plural)/{id}") { request, context in
                try await delete(kind, request, context)
            }
        }
        router.put("/api/v1/issues/{id}/subscriptions/{userId}") { request, context in
            try await putSubscription(request, context)
        }
        router.delete("/api/v1/issues/{id}/subscriptions/{userId}") { request, context in
            try await deleteSubscription(request, context)
        }
    }

    func list(_ kind: Kind, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.directoryRead, .directoryWrite)
        var query = QueryReader(request.uri.queryParameters, allowed: ["limit", "cursor"])
        let limit = query.limit()
        let cursor = query.stringCursor()
        try query.check()
        let records = try kind.records(in: try await dependencies.store.loadDirectory())
        let after = cursor.map { cursor in records.filter { $0.0 > cursor } } ?? records
        let page = Array(after.prefix(limit))
        return APIResponse.json(
            value: .object([
                "items": .array(page.map(\.1)),
                "nextCursor": after.count > limit ? .string(Cursor.encode(page.last!.0)) : .null,
            ])
        )
    }

    func get(_ kind: Kind, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.directoryRead, .directoryWrite)
        let id = try context.parameters.require("id")
        guard Identifier.problem(id) == nil,
            let record = try kind.record(id, in: try await dependencies.store.loadDirectory())
        else {
            throw APIError.notFound(kind.rawValue)
        }
        return APIResponse.json(value: record)
    }

    func put(_ kind: Kind, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.directoryWrite)
        let id = try context.parameters.require("id")
        if let problem = Identifier.problem(id) { throw APIError.invalid("id", problem) }
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        guard case .object(var members) = value else { throw APIError.invalid("body", "must be a JSON object") }
        switch members["id"] {
        case nil: members["id"] = .string(id)
        case .string(let given)? where given.utf8.elementsEqual(id.utf8): break
        default: throw APIError.invalid("id", "must be the id of the path (\"\(id)\")")
        }
        let existing = try await dependencies.store.loadDirectory()
        let document = try Self.parse(
            wrapping: .object(members),
            as: kind.plural,
            catalog: dependencies.catalog.current,
            existing: existing
        )
        let created = !existing.contains(kind.reference(id))
        try await dependencies.store.importDirectory(document, now: dependencies.clock.now())
        let stored = try kind.record(id, in: document) ?? .object(members)
        return APIResponse.json(value: stored, status: created ? .created : .ok)
    }

    func delete(_ kind: Kind, _ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.directoryWrite)
        let id = try context.parameters.require("id")
        guard Identifier.problem(id) == nil else { throw APIError.notFound(kind.rawValue) }
        try await remove(kind.reference(id), what: kind.rawValue)
        return APIResponse.noContent()
    }

    func putSubscription(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.directoryWrite)
        let issue = try context.parameters.require("id")
        let user = try context.parameters.require("userId")
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["project", "active", "reason"])
        _ = body.string("project", required: true)
        _ = body.bool("active", required: true)
        _ = body.string("reason", required: true)
        try body.check()
        var members = body.members
        members["issue"] = .string(issue)
        members["user"] = .string(user)
        let existing = try await dependencies.store.loadDirectory()
        let document = try Self.parse(
            wrapping: .object(members),
            as: "subscriptions",
            catalog: dependencies.catalog.current,
            existing: existing
        )
        guard let subscription = document.subscriptions.first else {
            throw APIError.invalid("body", "holds no subscription")
        }
        let created = !existing.contains(
            .subscription(project: subscription.project, issue: issue, party: .user(user))
        )
        try await dependencies.store.importDirectory(document, now: dependencies.clock.now())
        return APIResponse.json(value: try JSONValue.encoding(subscription), status: created ? .created : .ok)
    }

    func deleteSubscription(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.directoryWrite)
        let issue = try context.parameters.require("id")
        let user = try context.parameters.require("userId")
        guard Identifier.problem(issue) == nil, Identifier.problem(user) == nil else {
            throw APIError.notFound("subscription")
        }
        var query = QueryReader(request.uri.queryParameters, allowed: ["project"])
        let project = query.string("project")
        if project == nil { query.fail("project", "is required (the issue's project id)") }
        try query.check()
        try await remove(.subscription(project: project!, issue: issue, party: .user(user)), what: "subscription")
        return APIResponse.noContent()
    }

    /// Removes a record all or nothing; 404 when it does not exist, 409 naming what still refers to it.
    func remove(_ reference: DirectoryRecordReference, what: String) async throws {
        let existing = try await dependencies.store.loadDirectory()
        guard existing.contains(reference) else { throw APIError.notFound(what) }
        let (after, changedTeams) = existing.removing(reference)
        let problems = after.validate(catalog: dependencies.catalog.current)
        guard problems.isEmpty else {
            throw APIError(
                .conflict,
                .conflict,
                "the \(what) is still referenced: \(problems.prefix(5).map(\.description).joined(separator: "; "))",
                details: problems
            )
        }
        try await dependencies.store.updateDirectory(
            removing: [reference],
            upserting: DirectoryDocument(teams: changedTeams),
            now: dependencies.clock.now()
        )
    }

    /// Parses one record through the import path; field paths are given relative to the record (`email`, not
    /// `users[0].email`).
    static func parse(
        wrapping record: JSONValue,
        as list: String,
        catalog: Catalog,
        existing: DirectoryDocument
    ) throws(APIError) -> DirectoryDocument {
        let wrapped: JSONValue = .object([JSONKey(list): .array([record])])
        do {
            return try DirectoryDocument.parse(Data(wrapped.canonicalBytes()), catalog: catalog, existing: existing)
        } catch {
            let prefix = "\(list)[0]"
            let details = error.details.map { detail -> FieldError in
                var field = detail.field
                if field == prefix {
                    field = "body"
                } else if field.hasPrefix(prefix + ".") {
                    field = String(field.dropFirst(prefix.count + 1))
                }
                return FieldError(field: field, message: detail.message)
            }
            throw APIError(ValidationFailure(code: error.code, details: details))
        }
    }
}

extension JSONValue {
    /// A Codable value as JSON (the directory records' own shape).
    static func encoding(_ value: some Encodable) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return try JSONParser.parse(try encoder.encode(value))
    }
}
