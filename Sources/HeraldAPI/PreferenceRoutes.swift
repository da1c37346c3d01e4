import Crypto
import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// The preference matrix (SPEC §8.3), option and provider rows (§8.4) and the catalog defaults. Every route is
/// limited per principal (`auth.preferencesPerMinute`); a user JWT reaches only its own rows (`me` or its id),
/// an API token names the user (`?user=` on the matrix, the path elsewhere).
///
/// Handlers call the preference operations of HeraldCore (`Store+Preferences`, `PreferenceOptions`) only.
public struct PreferenceRoutes: Sendable {
    let dependencies: APIDependencies

    public init(dependencies: APIDependencies) {
        self.dependencies = dependencies
    }

    public func register(on router: Router<APIRequestContext>) {
        let limited = router.group().add(
            middleware: PreferenceRateLimitMiddleware(limiter: dependencies.preferenceLimiter)
        )
        limited.get("/api/v1/notifications/preferences") { request, context in try await matrix(request, context) }
        limited.patch("/api/v1/notifications/preferences/{eventKey}") { request, context in
            try await patch(request, context)
        }
        limited.delete("/api/v1/notifications/preferences/{eventKey}") { request, context in
            try await reset(request, context)
        }
        limited.get("/api/v1/notification-defaults") { _, context in
            _ = try context.requirePrincipal(.preferencesRead, .preferencesWrite)
            return try APIResponse.json(PreferenceOptions.defaults(catalog: dependencies.catalog.current))
        }
        limited.get("/api/v1/users/{id}/notification-options") { request, context in
            try await listOptions(request, context)
        }
        limited.put("/api/v1/users/{id}/notification-options") { request, context in
            try await putOption(request, context)
        }
        limited.delete("/api/v1/users/{id}/notification-options/{optionId}") { request, context in
            try await deleteOption(request, context)
        }
        limited.get("/api/v1/users/{id}/notification-providers") { request, context in
            try await listProviders(request, context)
        }
        limited.put("/api/v1/users/{id}/notification-providers") { request, context in
            try await putProviders(request, context)
        }
    }

    // MARK: Matrix

    /// The user a matrix route acts on: the JWT's user, or `?user=` for an API token.
    func matrixUser(_ request: Request, _ context: APIRequestContext, scope: APIScope) throws(APIError) -> String {
        let principal = try context.requirePrincipal(scope)
        let query = QueryReader(request.uri.queryParameters, allowed: ["user"])
        let named = query.string("user")
        try query.check()
        switch principal {
        case .user(let id):
            guard named == nil || named == id || named == "me" else {
                throw .forbidden("a user token may only act on its own rows")
            }
            return id
        case .token:
            guard let named, named != "me" else {
                throw .invalid("user", "is required with an API token (the user whose matrix to use)")
            }
            return named
        }
    }

    func matrix(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try matrixUser(request, context, scope: .preferencesRead)
        let rows = try await dependencies.store.preferenceMatrix(user: user, catalog: dependencies.catalog.current)
        return APIResponse.json(rows: rows)
    }

    func patch(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try matrixUser(request, context, scope: .preferencesWrite)
        let key = try context.parameters.require("eventKey")
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        let names = Channel.personal.map(\.rawValue)
        var body = try BodyObject(value, allowed: Set(names.map { JSONKey($0) }))
        var channels: [Channel: Bool] = [:]
        for channel in Channel.personal {
            if let enabled = body.bool(channel.rawValue) { channels[channel] = enabled }
        }
        if body.problems.isEmpty, channels.isEmpty {
            body.fail("body", "must set at least one of \(names.joined(separator: ", "))")
        }
        try body.check()
        let row = try await PreferenceWriter(store: dependencies.store).save(
            user: user,
            key: key,
            channels: channels,
            catalog: dependencies.catalog.current
        )
        return APIResponse.json(row: row)
    }

    func reset(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try matrixUser(request, context, scope: .preferencesWrite)
        let key = try context.parameters.require("eventKey")
        let row = try await PreferenceWriter(store: dependencies.store).reset(
            user: user,
            key: key,
            catalog: dependencies.catalog.current
        )
        return APIResponse.json(row: row)
    }

    /// Preference rows may only be written for users of the directory (an orphan row would make every later
    /// import fail validation).
    func requireUserExists(_ user: String) async throws {
        guard try await dependencies.store.directoryRecordExists(.user(user)) else { throw APIError.notFound("user") }
    }

    // MARK: Option and provider rows

    func listOptions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try context.requireUser(try context.parameters.require("id"), scope: .preferencesRead)
        let type = try typeFilter(request)
        let rows = PreferenceOptions.optionRows(
            try await dependencies.store.preferenceRows(of: .user(user)),
            subject: type
        )
        return APIResponse.json(value: .array(rows.map(Self.optionJSON)))
    }

    func listProviders(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try context.requireUser(try context.parameters.require("id"), scope: .preferencesRead)
        let type = try typeFilter(request)
        let rows = PreferenceOptions.providerRows(
            try await dependencies.store.preferenceRows(of: .user(user)),
            subject: type
        )
        return APIResponse.json(value: .array(rows.map(Self.optionJSON)))
    }

    /// `?type=`: a notification type or key of the catalog; anything else is 400 `INVALID_TYPE`.
    func typeFilter(_ request: Request) throws(APIError) -> String? {
        let query = QueryReader(request.uri.queryParameters, allowed: ["type"])
        guard let type = query.string("type") else {
            try query.check()
            return nil
        }
        do {
            _ = try PreferenceOptions.validateType(type, catalog: dependencies.catalog.current)
        } catch {
            throw APIError(.badRequest, .invalidType, "Invalid type", details: error.details)
        }
        try query.check()
        return type
    }

    func putOption(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try context.requireUser(try context.parameters.require("id"), scope: .preferencesWrite)
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["type", "scopeType", "scopeIdentifier", "value"])
        let type = body.string("type", required: true)
        let scopeType = body.string("scopeType", required: true)
        let scopeIdentifier = body.string("scopeIdentifier", required: true)
        let optionValue = body.string("value", required: true)
        try body.check()
        try await requireUserExists(user)
        let directory = DirectorySnapshot(document: try await dependencies.store.loadDirectory())
        let row: PreferenceRow
        do {
            row = try PreferenceOptions.optionRow(
                owner: .user(user),
                type: type!,
                scopeType: scopeType!,
                scopeIdentifier: scopeIdentifier!,
                value: optionValue!,
                catalog: dependencies.catalog.current,
                directory: directory
            )
        } catch {
            throw Self.apiError(error)
        }
        try await dependencies.store.upsertPreferenceRows([row])
        return APIResponse.json(value: Self.optionJSON(row), status: .created)
    }

    func putProviders(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try context.requireUser(try context.parameters.require("id"), scope: .preferencesWrite)
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["type", "scopeType", "scopeIdentifier", "providers"])
        let type = body.string("type", required: true)
        let scopeType = body.string("scopeType", required: true)
        let scopeIdentifier = body.string("scopeIdentifier", required: true)
        let providers = body.stringArray("providers", required: true)
        try body.check()
        try await requireUserExists(user)
        let directory = DirectorySnapshot(document: try await dependencies.store.loadDirectory())
        let rows: [PreferenceRow]
        do {
            rows = try PreferenceOptions.providerRows(
                owner: .user(user),
                type: type!,
                scopeType: scopeType!,
                scopeIdentifier: scopeIdentifier!,
                providers: providers!,
                catalog: dependencies.catalog.current,
                directory: directory
            )
        } catch {
            throw Self.apiError(error)
        }
        try await dependencies.store.upsertPreferenceRows(rows)
        return APIResponse.json(value: .array(rows.map(Self.optionJSON)), status: .created)
    }

    func deleteOption(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try context.requireUser(try context.parameters.require("id"), scope: .preferencesWrite)
        let optionId = try context.parameters.require("optionId")
        let rows = try await dependencies.store.preferenceRows(of: .user(user))
        guard let row = rows.first(where: { Self.optionId($0) == optionId }) else {
            throw APIError.notFound("notification option")
        }
        do {
            try await dependencies.store.deletePreferenceRow(row.identity, of: .user(user))
        } catch StoreError.notFound {
            throw APIError.notFound("notification option")
        }
        return APIResponse.noContent()
    }

    static func apiError(_ failure: ValidationFailure) -> APIError {
        if failure.code == PreferenceOptions.invalidTypeCode {
            return APIError(.badRequest, .invalidType, "Invalid type", details: failure.details)
        }
        return APIError(failure)
    }

    /// A row's stable id: derived from its identity, so it needs no column and survives re-imports.
    static func optionId(_ row: PreferenceRow) -> String {
        let identity = [
            row.user.map { "u:\($0)" } ?? row.team.map { "t:\($0)" } ?? "", row.scope.rawValue, row.scopeId,
            row.subject, row.channel?.rawValue ?? "",
        ].joined(separator: "\u{0}")
        return SHA256.hash(data: Array(identity.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    static func optionJSON(_ row: PreferenceRow) -> JSONValue {
        var object: [JSONKey: JSONValue] = [
            "id": .string(optionId(row)),
            "type": .string(row.subject),
            "scopeType": .string(row.scope.rawValue),
            "scopeIdentifier": .string(row.scopeId),
            "value": .string(row.value.rawValue),
            "user": row.user.map { .string($0) } ?? .null,
        ]
        if let channel = row.channel { object["provider"] = .string(channel.rawValue) }
        return .object(object)
    }
}
