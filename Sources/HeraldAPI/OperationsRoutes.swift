import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// Notifiers, deliveries and the run-time catalog (SPEC §11.5, §4): `GET /notifiers`,
/// `POST /notifiers/{id}/test`, `GET /deliveries`, `POST /deliveries/{id}/retry`, `POST /deliveries/retry`,
/// `PUT /admin/catalog/{key}`.
public struct OperationsRoutes: Sendable {
    let dependencies: APIDependencies

    public init(dependencies: APIDependencies) {
        self.dependencies = dependencies
    }

    public func register(on router: Router<APIRequestContext>) {
        router.get("/api/v1/notifiers") { _, context in
            _ = try context.requirePrincipal(.deliveriesWrite, .eventsRead)
            let health = await dependencies.operations.notifierHealth()
            return APIResponse.json(
                value: .array(
                    dependencies.notifiers.sorted { $0.id < $1.id }.map { notifier in
                        let state = health[notifier.id] ?? .ok
                        return .object([
                            "id": .number(Double(notifier.id)),
                            "name": .string(notifier.name),
                            "channel": .string(notifier.channel.rawValue),
                            "health": .object([
                                "state": .string(state.state),
                                "until": state.until.map { .string(Timestamp.format($0)) } ?? .null,
                                "lastError": state.lastError.map { .string($0) } ?? .null,
                                "destinations": .number(Double(state.destinations)),
                            ]),
                        ])
                    }
                )
            )
        }
        router.post("/api/v1/notifiers/{id}/test") { request, context in try await test(request, context) }
        router.get("/api/v1/deliveries") { request, context in try await list(request, context) }
        router.post("/api/v1/deliveries/{id}/retry") { request, context in try await retryOne(request, context) }
        router.post("/api/v1/deliveries/retry") { request, context in try await retryMany(request, context) }
        router.put("/api/v1/admin/catalog/{key}") { request, context in try await putCatalog(request, context) }
    }

    func test(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.deliveriesWrite)
        guard let id = Int(try context.parameters.require("id")), let notifier = dependencies.notifier(id) else {
            throw APIError.notFound("notifier")
        }
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["to"])
        let to = body.string("to", required: true)
        try body.check()
        if let problem = AddressValidator.problem(with: to!, on: notifier.channel) {
            throw APIError.invalid("to", problem)
        }
        let result = try await dependencies.operations.sendTest(id, to!)
        return try APIResponse.json(result)
    }

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.deliveriesWrite, .eventsRead)
        var query = QueryReader(request.uri.queryParameters, allowed: ["state", "channel", "limit", "cursor"])
        let state = query.enumValue("state", DeliveryState.self)
        let channel = query.enumValue("channel", Channel.self)
        let limit = query.limit()
        let cursor = query.cursor()
        try query.check()
        let page = try await dependencies.store.listDeliveries(
            DeliveryListQuery(state: state, channel: channel, before: cursor, limit: limit + 1)
        )
        let items = Array(page.prefix(limit))
        return APIResponse.json(
            value: .object([
                "items": .array(items.map(EventJSON.delivery)),
                "nextCursor": page.count > limit ? .string(Cursor.encode(items.last!.id)) : .null,
            ])
        )
    }

    func retryOne(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.deliveriesWrite)
        guard let id = Int64(try context.parameters.require("id")),
            let delivery = try await dependencies.store.delivery(id: id)
        else { throw APIError.notFound("delivery") }
        guard delivery.state == .dead else {
            throw APIError(.conflict, .conflict, "delivery \(id) is \(delivery.state.rawValue), not a dead letter")
        }
        let count = try await dependencies.store.requeueDead(ids: [id], now: dependencies.clock.now())
        return APIResponse.json(value: .object(["requeued": .number(Double(count))]))
    }

    func retryMany(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.deliveriesWrite)
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["filter"])
        var channel: Channel?
        var ids: [Int64]?
        var all = false
        switch body.members["filter"] {
        case nil: body.fail("filter", "is required ({} replays every dead letter)")
        case .object(let filter)?:
            var reader = try BodyObject(.object(filter), allowed: ["channel", "ids"])
            if let name = reader.string("channel") {
                if let parsed = Channel(rawValue: name) {
                    channel = parsed
                } else {
                    reader.fail("channel", "is not a channel")
                }
            }
            switch filter["ids"] {
            case nil: break
            case .array(let elements)?:
                ids = elements.enumerated().compactMap { index, element in
                    guard case .number(let number) = element, number.rounded() == number, number >= 1, number < 1e15
                    else {
                        reader.fail("ids[\(index)]", "must be a delivery id")
                        return nil
                    }
                    return Int64(number)
                }
            case let other?: reader.fail("ids", "must be an array of delivery ids, not \(other.typeName)")
            }
            for problem in reader.problems { body.fail("filter.\(problem.field)", problem.message) }
            all = channel == nil && ids == nil
        case let other?: body.fail("filter", "must be an object, not \(other.typeName)")
        }
        try body.check()
        var selected: [Int64]? = ids
        if let channel {
            var dead: [Int64] = []
            var cursor: Int64?
            repeat {
                let page = try await dependencies.store.listDeliveries(
                    DeliveryListQuery(state: .dead, channel: channel, before: cursor, limit: 500)
                )
                dead += page.map(\.id)
                cursor = page.count == 500 ? page.last?.id : nil
            } while cursor != nil
            selected = ids.map { wanted in dead.filter { Set(wanted).contains($0) } } ?? dead
        }
        let count: Int
        if all {
            count = try await dependencies.store.requeueDead(ids: nil, now: dependencies.clock.now())
        } else if let selected, !selected.isEmpty {
            count = try await dependencies.store.requeueDead(ids: selected, now: dependencies.clock.now())
        } else {
            count = 0
        }
        return APIResponse.json(value: .object(["requeued": .number(Double(count))]))
    }

    func putCatalog(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.admin)
        let key = try context.parameters.require("key")
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["key", "type", "description", "defaults", "critical"])
        let type = body.string("type", required: true)
        let description = body.string("description")
        let critical = body.bool("critical") ?? false
        if let given = body.string("key"), given != key { body.fail("key", "must be the key of the path (\"\(key)\")") }
        var defaults: [String: Bool] = [:]
        switch body.members["defaults"] {
        case nil: break
        case .object(let members)?:
            for (name, member) in members {
                if case .bool(let enabled) = member {
                    defaults[name.string] = enabled
                } else {
                    body.fail("defaults.\(BodyObject.printable(name.string))", "must be true or false")
                }
            }
        case let other?: body.fail("defaults", "must be an object of channel: true|false, not \(other.typeName)")
        }
        try body.check()
        let entry = try CatalogEntry.custom(
            key: key,
            type: type!,
            description: description,
            defaults: defaults,
            critical: critical
        )
        let existed = dependencies.catalog.current.entry(for: key) != nil
        try await dependencies.store.saveCatalogEntry(entry)
        let catalog = try dependencies.catalog.upsert(entry)
        dependencies.operations.catalogChanged(catalog)
        return APIResponse.json(value: Self.catalogJSON(entry), status: existed ? .ok : .created)
    }

    static func catalogJSON(_ entry: CatalogEntry) -> JSONValue {
        var defaults: [JSONKey: JSONValue] = [:]
        for channel in Channel.allCases { defaults[channel.rawValue] = .bool(entry.isEnabledByDefault(channel)) }
        return .object([
            "key": .string(entry.key),
            "type": .string(entry.type.rawValue),
            "description": .string(entry.description),
            "defaults": .object(defaults),
            "critical": .bool(entry.critical),
        ])
    }
}
