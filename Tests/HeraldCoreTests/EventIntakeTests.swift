import Foundation
import HeraldCore
import Testing

@Suite("Event intake validation")
struct EventIntakeTests {
    let intake = EventIntake(
        catalog: Catalog(custom: [
            CatalogEntry(
                key: "payout_processed",
                type: NotificationType("payments"),
                description: "Payout",
                defaults: [.email: true]
            )
        ])
    )
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func parse(_ text: String) throws(ValidationFailure) -> [NewEvent] {
        try intake.parseDocument(Data(text.utf8), now: now)
    }

    func failure(_ text: String) -> ValidationFailure? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsACompleteEvent() throws {
        let events = try parse(
            """
            {"id":"evt_1","key":"assigned","organization":"acme","project":"backend",
             "actor":{"id":"u42","name":"Jane Doe"},
             "issue":{"id":"9001","shortId":"BACKEND-1A","title":"TypeError","url":"https://tracker.example/i/9001/",
                      "level":"error","environment":"production"},
             "data":{"assignee":{"id":"u1","type":"user"}},
             "recipients":[{"channel":"slack","address":"C0123456789"},{"user":"u1"},{"team":"t1"}],
             "occurredAt":"2026-11-23T10:00:00Z"}
            """
        )
        let event = try #require(events.first?.event)
        #expect(event.id == "evt_1")
        #expect(event.actor == Actor(id: "u42", name: "Jane Doe"))
        #expect(event.issue?.shortId == "BACKEND-1A")
        #expect(
            event.recipients == [
                .address(channel: .slack, address: "C0123456789", notifier: nil), .user("u1"), .team("t1"),
            ]
        )
        #expect(event.occurredAt == Timestamp.parse("2026-11-23T10:00:00Z"))
        #expect(events.first?.idempotencyKey == "evt_1")
    }

    @Test func generatesIdsAndDefaultsOccurredAtToIntakeTime() throws {
        let event = try #require(
            try parse(#"{"key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":"T"}}"#).first
        )
        #expect(event.event.id.hasPrefix("evt_"))
        #expect(event.event.id.count == 30)
        #expect(event.event.occurredAt == now)
        #expect(event.idempotencyKey == nil)
    }

    @Test func canonicalBodyIgnoresKeyOrderAndWhitespace() throws {
        let first = try parse(
            #"{"key":"resolved","organization":"acme","id":"a","issue":{"id":"1","shortId":"A-1","title":"T"}}"#
        )[0].canonicalBody
        let second = try parse(
            #"{ "organization" : "acme", "id":"a", "issue":{"id":"1", "shortId":"A-1", "title":"T"}, "key":"resolved" }"#
        )[0].canonicalBody
        #expect(first == second)
    }

    @Test func readsArraysEventsEnvelopesAndJSONLines() throws {
        #expect(
            try parse(
                #"[{"key":"resolved","organization":"a","issue":{"id":"1","shortId":"A-1","title":"T"}},{"key":"unresolved","organization":"a","issue":{"id":"1","shortId":"A-1","title":"T"}}]"#
            ).count == 2
        )
        #expect(
            try parse(
                #"{"events":[{"key":"resolved","organization":"a","issue":{"id":"1","shortId":"A-1","title":"T"}}]}"#
            ).count == 1
        )
        #expect(
            try parse(
                "{\"key\":\"resolved\",\"organization\":\"a\",\"issue\":{\"id\":\"1\",\"shortId\":\"A-1\",\"title\":\"T\"}}\n\n{\"key\":\"archived\",\"organization\":\"a\",\"issue\":{\"id\":\"1\",\"shortId\":\"A-1\",\"title\":\"T\"}}\r\n"
            )
            .count == 2
        )
    }

    @Test func unknownKeyIsRefusedWithItsCode() throws {
        let error = try #require(failure(#"{"key":"nope","organization":"acme"}"#))
        #expect(error.code == "UNKNOWN_EVENT_KEY")
        #expect(error.details == [FieldError(field: "key", message: "\"nope\" is not in the catalog")])
    }

    @Test(arguments: [
        (#"{"organization":"acme"}"#, "key"),
        (#"{"key":"resolved"}"#, "organization"),
        (#"{"key":"resolved","organization":7}"#, "organization"),
        (#"{"key":"resolved","organization":"a","actor":"jane"}"#, "actor"),
        (#"{"key":"resolved","organization":"a","actor":{"name":"x"}}"#, "actor.id"),
        (#"{"key":"resolved","organization":"a","issue":{"id":"1","url":"javascript:alert(1)"}}"#, "issue.url"),
        (#"{"key":"resolved","organization":"a","data":[1]}"#, "data"),
        (#"{"key":"resolved","organization":"a","occurredAt":"yesterday"}"#, "occurredAt"),
        (#"{"key":"resolved","organization":"a","colour":"red"}"#, "colour"),
        (#"{"key":"resolved","organization":"a","id":"has space"}"#, "id"),
        (#"{"key":"resolved","organization":"a","recipients":{}}"#, "recipients"),
        (
            #"{"key":"resolved","organization":"a","recipients":[{"channel":"fax","address":"1"}]}"#,
            "recipients[0].channel"
        ),
        (
            #"{"key":"resolved","organization":"a","recipients":[{"channel":"email","address":"ops@example.com\r\nBcc: x@y.z"}]}"#,
            "recipients[0].address"
        ),
        (
            #"{"key":"resolved","organization":"a","recipients":[{"channel":"sms","address":"555-1234"}]}"#,
            "recipients[0].address"
        ),
        (
            #"{"key":"resolved","organization":"a","recipients":[{"channel":"email","address":"not-an-email"}]}"#,
            "recipients[0].address"
        ),
        (
            #"{"key":"resolved","organization":"a","recipients":[{"channel":"webhook","address":"ftp://x"}]}"#,
            "recipients[0].address"
        ),
        (
            #"{"key":"resolved","organization":"a","recipients":[{"channel":"slack","address":"general"}]}"#,
            "recipients[0].address"
        ),
        (#"{"key":"payout_processed","organization":"a"}"#, "recipients"),
    ])
    func refusesBadFieldsNamingThem(input: String, field: String) throws {
        let error = try #require(failure(input))
        #expect(error.details.contains { $0.field == field }, "\(error.details)")
    }

    @Test func batchIsAllOrNothingAndListsEveryInvalidIndex() throws {
        let error = try #require(
            failure(
                #"[{"key":"resolved","organization":"a","issue":{"id":"1","shortId":"A-1","title":"T"}},{"key":"nope","organization":"a"},{"key":"resolved","issue":{"id":"1","shortId":"A-1","title":"T"}}]"#
            )
        )
        #expect(error.details.map(\.field) == ["events[1].key", "events[2].organization"])
        #expect(error.code == "VALIDATION_FAILED")
    }

    @Test func oversizedEventIsRefused() throws {
        let text = String(repeating: "x", count: 300 * 1024)
        let error = try #require(failure(#"{"key":"resolved","organization":"a","data":{"text":"\#(text)"}}"#))
        #expect(error.code == "PAYLOAD_TOO_LARGE")
    }

    @Test func malformedAndDeeplyNestedJSONIsRefusedWithoutCrashing() throws {
        #expect(failure(#"{"key":"resolved","organization":"a""#) != nil)
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(failure(deep) != nil)
        let deepObject =
            #"{"key":"resolved","organization":"a","data":{"x":"# + String(repeating: "[", count: 10_000)
            + String(repeating: "]", count: 10_000) + "}}"
        #expect(failure(deepObject) != nil)
    }

    @Test func nonUTF8BytesAreRefused() throws {
        var bytes = Data(#"{"key":"resolved","organization":""#.utf8)
        bytes.append(contentsOf: [0xFF, 0xFE, 0x80])
        bytes.append(contentsOf: Data(#""}"#.utf8))
        #expect(throws: ValidationFailure.self) { try intake.parseDocument(bytes, now: now) }
    }

    @Test func emptyInputIsRefused() throws {
        #expect(failure("   \n") != nil)
        #expect(failure("[]") != nil)
    }
}
