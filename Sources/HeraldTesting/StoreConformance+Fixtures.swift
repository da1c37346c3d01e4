import Foundation
import HeraldCore

extension StoreConformance {
    /// The suite's epoch, 2027-01-15T08:00:00Z, in milliseconds.
    static let epochMillis: Int64 = 1_800_000_000_000

    /// `seconds` after the suite's epoch, rounded to the millisecond.
    static func at(_ seconds: Double) -> Date {
        Date(timeIntervalSince1970: Double(epochMillis + Int64((seconds * 1000).rounded())) / 1000)
    }

    /// An event using every field, to check that a store gives back exactly what it was given.
    static func richEvent(_ id: String) -> Event {
        Event(
            id: id,
            key: "issue_alert",
            organization: "acme",
            project: "backend",
            actor: Actor(id: "u42", name: "Jane Doe"),
            issue: IssueReference(
                id: "9001",
                shortId: "BACKEND-1A",
                title: "TypeError: x is undefined — “quoted” ✓",
                url: "https://tracker.example/acme/issues/9001/",
                level: "error",
                culprit: "app/models.py in save",
                environment: "production"
            ),
            data: [
                "rule": .object(["id": .number(7), "name": .string("High volume")]),
                // Names that `String ==` calls equal but are different JSON names: the store keeps each.
                "tags": .object([
                    "browser": .string("Firefox"), "ratio": .number(0.25), "caf\u{E9}": .string("composed"),
                    "cafe\u{301}": .string("decomposed"), "\u{212A}": .string("kelvin"), "K": .string("k"),
                ]),
                "paths": .array([.string("src/a.py"), .null, .bool(true)]),
            ],
            recipients: [
                .user("u1"), .team("t1"), .address(channel: .sms, address: "+15555550100", notifier: 3),
                .address(channel: .email, address: "ops@example.com", notifier: nil),
            ],
            occurredAt: at(-1.5)
        )
    }

    /// A minimal event.
    static func plainEvent(_ id: String) -> Event {
        Event(id: id, key: "resolved", organization: "acme", project: "backend", occurredAt: at(-60))
    }

    /// An event ready to store; events with equal `body` have equal canonical bodies.
    static func newEvent(_ id: String, key: String? = nil, body: String = "original", rich: Bool = false) -> NewEvent {
        NewEvent(
            event: rich ? richEvent(id) : plainEvent(id),
            idempotencyKey: key,
            canonicalBody: Data(#"{"body":"\#(body)","key":"resolved"}"#.utf8)
        )
    }

    /// The `index`th delivery of an event; the payload holds bytes that are not valid UTF-8.
    static func newDelivery(_ eventId: String, _ index: Int, channel: Channel = .slack) -> NewDelivery {
        NewDelivery(
            eventId: eventId,
            channel: channel,
            notifierId: index + 1,
            recipient: index.isMultiple(of: 2)
                ? Recipient(kind: .user, id: "u\(index)", address: "U0\(index)", name: "User \(index)")
                : Recipient(kind: .address, address: "https://hooks.example/\(eventId)/\(index)"),
            reason: index.isMultiple(of: 2) ? .implicit : DeliveryReason("route"),
            destination: "https://hooks.example/secret/\(index)",
            payload: Data([0x7B, 0x00, 0xFF, 0xFE, UInt8(index % 256), 0x7D]),
            contentType: "application/json"
        )
    }

    /// A recorded attempt.
    static func attempt(
        _ result: AttemptRecord.Result,
        at start: Date,
        reason: FailureReason? = nil,
        status: Int? = nil,
        detail: String = ""
    ) -> AttemptRecord {
        AttemptRecord(startedAt: start, duration: 0.25, result: result, reason: reason, status: status, detail: detail)
    }

    /// The event with its time rounded to the millisecond, for comparing what a store returns.
    static func normalized(_ event: Event) -> Event {
        var event = event
        event.occurredAt = Date(timeIntervalSince1970: Double(millis(event.occurredAt)) / 1000)
        return event
    }

    /// Enqueues the events, claims them and fans each out with `perEvent` deliveries, all at `now`; returns the
    /// delivery ids, event by event. The store must hold no other claimable event.
    @discardableResult
    static func seedDeliveries(
        _ store: any Store,
        eventIds: [String],
        perEvent: Int = 1,
        at now: Date,
        file: StaticString = #fileID,
        line: UInt = #line
    ) async throws -> [Int64] {
        _ = try await store.enqueue(eventIds.map { newEvent($0) }, now: now)
        let claimed = try await store.claimEvents(
            limit: eventIds.count,
            now: now,
            leaseUntil: now.addingTimeInterval(30)
        )
        try expectEqual(claimed.map(\.event.id), eventIds, "events claimed for seeding", file: file, line: line)
        let results = eventIds.map { id in
            FanOutResult(eventId: id, deliveries: (0..<perEvent).map { newDelivery(id, $0) }, suppressions: [])
        }
        try await store.completeFanOut(results, now: now)
        var ids: [Int64] = []
        for eventId in eventIds {
            let record = try unwrap(
                try await store.eventRecord(id: eventId),
                "record of \(eventId)",
                file: file,
                line: line
            )
            ids += record.deliveries.map(\.id)
        }
        return ids
    }

    /// The stored delivery, which must exist.
    static func stored(
        _ store: any Store,
        _ id: Int64,
        file: StaticString = #fileID,
        line: UInt = #line
    ) async throws -> Delivery {
        try unwrap(try await store.delivery(id: id), "delivery \(id)", file: file, line: line)
    }

    /// The lease a delivery is held under now (what the worker that claimed it carries).
    static func held(
        _ store: any Store,
        _ id: Int64,
        file: StaticString = #fileID,
        line: UInt = #line
    ) async throws -> Lease {
        try unwrap(try await stored(store, id, file: file, line: line).lease, "lease of \(id)", file: file, line: line)
    }

    /// The leases of claimed deliveries by id.
    static func leases(
        _ claimed: [Delivery],
        file: StaticString = #fileID,
        line: UInt = #line
    ) throws -> [Int64: Lease] {
        var leases: [Int64: Lease] = [:]
        for delivery in claimed {
            leases[delivery.id] = try unwrap(delivery.lease, "lease of claimed \(delivery.id)", file: file, line: line)
        }
        return leases
    }
}
