import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// `POST /api/v1/events`, `GET /api/v1/events/{id}`, `GET /api/v1/events` (SPEC §11.2).
///
/// Intake runs the CLI's validation (`EventIntake.parseDocument`) per request, then hands the valid events to
/// the group-commit queue; the 202 is written only after the shared transaction committed.
public struct EventRoutes: Sendable {
    let dependencies: APIDependencies

    public init(dependencies: APIDependencies) {
        self.dependencies = dependencies
    }

    public func register(on router: Router<APIRequestContext>) {
        router.post("/api/v1/events") { request, context in try await post(request, context) }
        router.get("/api/v1/events") { request, context in try await list(request, context) }
        router.get("/api/v1/events/{id}") { request, context in try await explain(request, context) }
    }

    func post(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.eventsWrite)
        let (data, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        guard case .object(let members) = value else {
            throw APIError.invalid("body", "must be one event object or {\"events\": [...]}")
        }
        let isBatch = members["events"] != nil && members["key"] == nil
        let idempotencyKey = request.headers[.idempotencyKey]
        if let idempotencyKey {
            if isBatch {
                throw APIError.invalid("Idempotency-Key", "applies to a single-event body; give each event an id")
            }
            if let problem = EventIntake.identifierProblem(idempotencyKey) {
                throw APIError.invalid("Idempotency-Key", problem)
            }
        }
        let now = dependencies.clock.now()
        var events: [NewEvent]
        do {
            events = try dependencies.intake.parseDocument(data, now: now)
        } catch {
            throw APIError(error)
        }
        if let idempotencyKey, events.count == 1 {
            events[0].idempotencyKey = idempotencyKey
        }
        let results: [EnqueueResult]
        do {
            results = try await dependencies.commitQueue.enqueue(events)
        } catch StoreError.idempotencyConflict(let index, let key) {
            let field = isBatch ? "events[\(index)].id" : (idempotencyKey != nil ? "Idempotency-Key" : "id")
            throw APIError(
                .conflict,
                .idempotencyConflict,
                "\(field): \"\(key)\" was already used for a different event",
                details: [FieldError(field: field, message: "was already used for a different event")]
            )
        }
        var accepted = 0
        var items: [JSONValue] = []
        items.reserveCapacity(results.count)
        for (index, result) in results.enumerated() {
            let status: String
            switch result {
            case .accepted:
                accepted += 1
                status = "accepted"
            case .duplicate: status = "duplicate"
            }
            items.append(
                .object([
                    "index": .number(Double(index)), "id": .string(result.eventId), "status": .string(status),
                ])
            )
        }
        return APIResponse.json(
            value: .object([
                "accepted": .number(Double(accepted)),
                "duplicates": .number(Double(results.count - accepted)),
                "events": .array(items),
            ]),
            status: .accepted
        )
    }

    func explain(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.eventsRead)
        let id = try context.parameters.require("id")
        guard EventIntake.identifierProblem(id) == nil, let record = try await dependencies.store.eventRecord(id: id)
        else { throw APIError.notFound("event") }
        return APIResponse.json(value: EventJSON.record(record))
    }

    func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.eventsRead)
        var query = QueryReader(request.uri.queryParameters, allowed: ["state", "key", "limit", "cursor"])
        let state = query.enumValue("state", EventState.self)
        let key = query.string("key")
        let limit = query.limit()
        let cursor = query.cursor()
        try query.check()
        let page = try await dependencies.store.listEvents(
            EventListQuery(state: state, key: key, after: cursor, limit: limit + 1)
        )
        let items = Array(page.prefix(limit))
        return APIResponse.json(
            value: .object([
                "items": .array(items.map(EventJSON.summary)),
                "nextCursor": page.count > limit ? .string(Cursor.encode(items.last!.sequence)) : .null,
            ])
        )
    }
}

/// JSON forms of events and deliveries.
/// JSON forms of events and deliveries, shared by the API and the CLI.
public enum EventJSON {
    static func summary(_ summary: EventSummary) -> JSONValue {
        .object([
            "id": .string(summary.id), "key": .string(summary.key), "state": .string(summary.state.rawValue),
            "organization": .string(summary.organization),
            "project": summary.project.map { .string($0) } ?? .null,
            "acceptedAt": .string(Timestamp.format(summary.acceptedAt)),
        ])
    }

    static func record(_ record: EventRecord) -> JSONValue {
        .object([
            "id": .string(record.event.id), "key": .string(record.event.key),
            "state": .string(record.state.rawValue),
            "organization": .string(record.event.organization),
            "project": record.event.project.map { .string($0) } ?? .null,
            "acceptedAt": .string(Timestamp.format(record.acceptedAt)),
            "occurredAt": .string(Timestamp.format(record.event.occurredAt)),
            "deliveries": .array(record.deliveries.map(delivery)),
            "suppressed": .array(
                record.suppressions.map {
                    .object([
                        "recipient": .string($0.recipient),
                        "channel": $0.channel.map { .string($0.rawValue) } ?? .null,
                        "reason": .string($0.reason),
                    ])
                }
            ),
        ])
    }

    /// One delivery as the API and the CLI's JSON output show it (one shape for both).
    public static func delivery(_ delivery: Delivery) -> JSONValue {
        .object([
            "id": .number(Double(delivery.id)), "eventId": .string(delivery.eventId),
            "channel": .string(delivery.channel.rawValue), "notifier": .number(Double(delivery.notifierId)),
            "recipient": .string(delivery.recipient.logLabel), "reason": .string(delivery.reason.rawValue),
            "state": .string(delivery.state.rawValue), "attempts": .number(Double(delivery.attempts)),
            "lastError": delivery.lastError.map { .string($0) } ?? .null,
            "receipt": delivery.receipt.map { .string($0) } ?? .null,
            "createdAt": .string(Timestamp.format(delivery.createdAt)),
            "updatedAt": .string(Timestamp.format(delivery.updatedAt)),
        ])
    }
}
