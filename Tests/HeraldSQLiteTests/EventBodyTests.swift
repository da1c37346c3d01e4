import Foundation
import GRDB
import HeraldCore
import HeraldSQLite
import Testing

/// The stored event body is written and read by hand; it must give back every field exactly, and still read the
/// bodies earlier versions wrote with `JSONEncoder`.
@Suite struct EventBodyTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000.123)

    private var full: Event {
        Event(
            id: "evt_full",
            key: "assigned",
            organization: "acme",
            project: "backend",
            actor: Actor(id: "u1", name: "Ada \"the\" Lovelace / ünïcode ✓"),
            issue: IssueReference(
                id: "i1",
                shortId: "BACKEND-1",
                title: "Crash\nin \\ parser\t\u{01}",
                url: "https://tracker.example/issues/1",
                level: "error",
                culprit: "parse()",
                environment: "production"
            ),
            data: [
                "assignee": .object(["id": .string("u2"), "name": .null]),
                "count": .number(3),
                "ratio": .number(0.25),
                "big": .number(-9_007_199_254_740_000),
                "flags": .array([.bool(true), .bool(false), .null, .string("")]),
            ],
            recipients: [
                .user("u2"), .team("t1"),
                .address(channel: .slack, address: "C0123", notifier: 2),
                .address(channel: .email, address: "a@example.com", notifier: nil),
            ],
            occurredAt: Date(timeIntervalSince1970: 1_799_999_999.5)
        )
    }

    private var minimal: Event {
        Event(id: "evt_min", key: "resolved", organization: "acme", occurredAt: now)
    }

    private func store(in directory: URL) async throws -> SQLiteStore {
        let store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        return store
    }

    /// Data names that `String ==` calls equal but that are different JSON names: each comes back as itself.
    private var spellings: Event {
        var event = minimal
        event.id = "evt_spellings"
        event.data = [
            "caf\u{E9}": .string("composed"), "cafe\u{301}": .string("decomposed"), "\u{212A}": .number(1),
            "K": .number(2), "\u{2126}": .object(["\u{3A9}": .bool(true), "\u{2126}": .bool(false)]),
        ]
        return event
    }

    @Test(arguments: ["full", "minimal", "spellings"])
    func everyFieldComesBack(_ name: String) async throws {
        let event = ["full": full, "minimal": minimal, "spellings": spellings][name]!
        try await withTemporaryDirectory { directory in
            let store = try await store(in: directory)
            _ = try await store.enqueue(
                [NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data("{}".utf8))],
                now: now
            )
            let claimed = try await store.claimEvents(limit: 10, now: now, leaseUntil: now + 30)
            #expect(claimed.map(\.event) == [event])
            #expect(try await store.eventRecord(id: event.id)?.event == event)
            try await store.close()
        }
    }

    @Test func bodiesWrittenByJSONEncoderStillRead() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("herald.db").path
            let store = try await store(in: directory)
            // The encoding of earlier versions: Codable with dates as integer milliseconds.
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(Int64((date.timeIntervalSince1970 * 1000).rounded()))
            }
            let body = String(decoding: try encoder.encode(full), as: UTF8.self)
            let queue = try DatabaseQueue(path: path)
            let millis = Int64(now.timeIntervalSince1970 * 1000)
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO events (id, state, due_at, accepted_at, key, organization, project, body, canonical_body)
                        VALUES (?, 'accepted', ?, ?, 'assigned', 'acme', 'backend', ?, ?)
                        """,
                    arguments: ["evt_full", millis, millis, body, Data("{}".utf8)]
                )
            }
            try queue.close()
            let claimed = try await store.claimEvents(limit: 10, now: now, leaseUntil: now + 30)
            #expect(claimed.map(\.event) == [full])
            try await store.close()
        }
    }
}
