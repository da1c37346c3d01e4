import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// `PayloadJSON.encode` writes `JSONEncoder`'s bytes (sorted keys, unescaped slashes, RFC 3339 dates) through
/// `PayloadEncoder`, which keeps member names byte for byte where `JSONEncoder` merges canonically equivalent ones.
@Suite("Payload encoder")
struct PayloadEncoderTests {
    struct Sample: Encodable {
        struct Inner: Encodable {
            var flag: Bool
            var ratio: Double?
            var list: [Int]
        }

        var text: String
        var when: Date
        var count: Int
        var big: UInt64
        var small: Int8
        var floats: [Double]
        var optional: String?
        var nested: Inner
        var map: [String: Inner]
        var values: [JSONKey: JSONValue]
        var url: URL
    }

    /// Values with nothing `JSONEncoder` would merge, so both encoders must agree byte for byte.
    static let samples: [Sample] = [
        Sample(
            text: "plain",
            when: Fixtures.occurredAt,
            count: 0,
            big: 0,
            small: 0,
            floats: [],
            optional: nil,
            nested: .init(flag: false, ratio: nil, list: []),
            map: [:],
            values: [:],
            url: URL(string: "https://a.test/x?y=1")!
        ),
        Sample(
            text: "quotes \" and \\ and / and \u{8}\u{C}\n\r\t\u{1}\u{7F}\u{2028} ünï ✓ 🎉",
            when: Date(timeIntervalSince1970: 1_800_000_000.25),
            count: -42,
            big: UInt64.max,
            small: Int8.min,
            floats: [3, 0.25, 1e-7, 1e20, 1.5e300, -0.0, 123_456_789.125, 0.1 + 0.2],
            optional: "",
            nested: .init(flag: true, ratio: 2.5, list: [1, -2, Int.max]),
            map: [
                "b": .init(flag: true, ratio: 0, list: [0]), "B": .init(flag: false, ratio: nil, list: []),
                "10": .init(flag: true, ratio: 1, list: []), "9": .init(flag: true, ratio: nil, list: []),
            ],
            values: [
                "z": .null, "a": .array([.bool(true), .number(1), .number(1.5), .string("s"), .object(["k": .null])]),
                "é": .object(["ü": .number(-9_007_199_254_740_000)]), "_": .string("</script>"),
            ],
            url: URL(string: "https://h.test/a/b")!
        ),
    ]

    static func foundation(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return try encoder.encode(value)
    }

    @Test("the same bytes as JSONEncoder wherever JSONEncoder keeps every member", arguments: 0..<2)
    func parity(_ index: Int) throws {
        let sample = Self.samples[index]
        let ours = try PayloadJSON.encode(sample)
        let theirs = try Self.foundation(sample)
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self))
        #expect(ours == theirs)
        #expect(try PayloadJSON.encode(Self.samples.map(\.values)) == Self.foundation(Self.samples.map(\.values)))
    }

    @Test(
        "NaN and infinities are refused, as JSONEncoder refuses them",
        arguments: [Double.nan, .infinity, -.infinity]
    )
    func nonFinite(_ value: Double) {
        #expect(throws: EncodingError.self) { try PayloadJSON.encode(["x": value]) }
        #expect(throws: EncodingError.self) { try PayloadJSON.encode([value]) }
    }

    @Test("both spellings of a data name reach the webhook and PagerDuty bodies", arguments: ByteExactPairs.pairs)
    func bothSpellings(_ first: String, _ second: String) throws {
        var input = Fixtures.input("payout_processed", recipient: Fixtures.webhookRoute, reason: .route)
        input.event.data = [JSONKey(first): .string("one"), JSONKey(second): .string("two")]
        let webhook = WebhookProvider(notifier: Fixtures.webhookNotifier, connection: WebhookConnection())
        let body = try JSONParser.parse(try webhook.render(input).body)
        let data = try #require(body["event"]?["data"]?.objectValue)
        #expect(data.count == 2)
        #expect(data[first] == .string("one"))
        #expect(data[second] == .string("two"))

        var paging = Fixtures.input("issue_alert", recipient: Fixtures.pagerDutyRoute, reason: .route)
        paging.event.data[JSONKey(first)] = .string("one")
        paging.event.data[JSONKey(second)] = .string("two")
        let pagerDuty = PagerDutyProvider(notifier: Fixtures.pagerDutyNotifier, connection: PagerDutyConnection())
        let event = try JSONParser.parse(try pagerDuty.render(paging).body)
        let details = try #require(event["payload"]?["custom_details"]?["Data"]?.objectValue)
        #expect(details[first] == .string("one"))
        #expect(details[second] == .string("two"))
    }
}

/// Canonically equivalent spellings that are different names (a few of the core table's).
enum ByteExactPairs {
    static let pairs: [(String, String)] = [
        ("\u{E9}", "e\u{301}"), ("\u{2126}", "\u{3A9}"), ("\u{212A}", "K"), ("\u{AC00}", "\u{1100}\u{1161}"),
        ("s\u{323}\u{307}", "s\u{307}\u{323}"),
    ]
}
