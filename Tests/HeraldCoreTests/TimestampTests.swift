import Foundation
import HeraldCore
import Testing

/// SPEC §3.1: RFC 3339 date-times, strictly, in both directions.
@Suite("Timestamps are strict RFC 3339")
struct TimestampTests {
    static let accepted: [(String, Double)] = [
        ("2026-11-23T10:00:00Z", 1_795_428_000),
        ("2026-11-23t10:00:00z", 1_795_428_000),
        ("2026-11-23T11:30:00+01:30", 1_795_428_000),
        ("2026-11-23T05:00:00-05:00", 1_795_428_000),
        ("2026-11-23T10:00:00.5Z", 1_795_428_000.5),
        ("2026-11-23T10:00:00.123Z", 1_795_428_000.123),
        ("2026-11-23T10:00:00.1234567890Z", 1_795_428_000.123_456_789),
        ("2026-11-23T10:00:00.000000000000000000001Z", 1_795_428_000),
        ("2028-02-29T00:00:00Z", 1_835_395_200),
        ("2000-02-29T23:59:59Z", 951_868_799),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1),
        ("0001-01-01T00:00:00Z", -62_135_596_800),
        ("9999-12-31T23:59:59Z", 253_402_300_799),
    ]

    @Test("valid date-times parse to the right instant", arguments: accepted)
    func accepts(_ text: String, seconds: Double) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    static let refused = [
        "2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-31T00:00:00Z", "2026-04-31T00:00:00Z",
        "1900-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T10:60:00Z", "2026-11-23T10:00:61Z", "2026-11-23T10:00:60Z",
        "2026-11-23T10:00:00Z ", " 2026-11-23T10:00:00Z", "2026-11-23T10:00:00Z\n", "20260-11-23T10:00:00Z",
        "226-11-23T10:00:00Z", "2026-11-23 10:00:00Z", "2026-11-23T10:00Z", "2026-11-23T10:00:00",
        "2026-11-23T10:00:00.Z", "2026-11-23T10:00:00+0100", "2026-11-23T10:00:00+24:00", "2026-11-23T10:00:00+01:60",
        "2026-11-23", "2026-1-23T10:00:00Z", "+2026-11-23T10:00:00Z", "２０２６-11-23T10:00:00Z", "",
        "2026-11-23T10:00:00\u{0}Z",
    ]

    @Test("impossible or malformed date-times are refused, never rolled over", arguments: refused)
    func refuses(_ text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test("what Herald writes it reads back", arguments: [0.0, 1_795_428_000.123, -1, 253_402_300_799])
    func roundTrip(_ seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let parsed = try #require(Timestamp.parse(Timestamp.format(date)))
        #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.001)
    }

    @Test("events and directory entries refuse impossible times naming the field", arguments: refused.prefix(12))
    func refusedAtIntakeAndImport(_ text: String) throws {
        let quoted = String(decoding: try JSONValue.string(text).canonicalData(), as: UTF8.self)
        let intake = EventIntake(catalog: Catalog())
        do {
            _ = try intake.parseDocument(
                Data(
                    #"{"key":"deploy","organization":"acme","occurredAt":\#(quoted),"data":{"version":"1","environment":"p","deployId":"d"}}"#
                        .utf8
                ),
                now: Date()
            )
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.details.map(\.field) == ["occurredAt"])
        }
        let directory = #"{"users":[{"id":"u1","organization":"acme","lastActiveAt":\#(quoted)}]}"#
        do {
            _ = try DirectoryDocument.parse(Data(directory.utf8), catalog: Catalog())
            Issue.record("imported \(text)")
        } catch {
            #expect(error.details.first?.field == "users[0].lastActiveAt")
        }
    }
}
