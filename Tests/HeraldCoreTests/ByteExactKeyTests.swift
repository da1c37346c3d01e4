import Foundation
import HeraldCore
import Testing

/// JSON member names are scalar sequences (RFC 8259 §8.3), compared byte for byte: two spellings that Swift's
/// `String ==` calls equal (canonical equivalence) are two names, kept apart everywhere, while the same name twice
/// is still a duplicate (I-JSON).
@Suite("Byte-exact JSON keys")
struct ByteExactKeyTests {
    /// Pairs of different scalar sequences that are canonically equivalent, so `String ==` takes them for one.
    static let equivalentPairs: [(String, String)] = [
        ("\u{E9}", "e\u{301}"),  // é composed and decomposed (NFC / NFD)
        ("caf\u{E9}", "cafe\u{301}"),
        ("\u{C5}", "A\u{30A}"),  // Å
        ("\u{212B}", "\u{C5}"),  // ANGSTROM SIGN and Å
        ("\u{2126}", "\u{3A9}"),  // OHM SIGN and GREEK CAPITAL OMEGA
        ("\u{212A}", "K"),  // KELVIN SIGN and K: an ASCII letter
        ("\u{212A}ey", "Key"),
        ("\u{37E}", ";"),  // GREEK QUESTION MARK and the semicolon
        ("\u{1FEF}", "`"),  // GREEK VARIA and the grave accent
        ("\u{AC00}", "\u{1100}\u{1161}"),  // Hangul syllable GA and its jamo (LV)
        ("\u{D55C}", "\u{1112}\u{1161}\u{11AB}"),  // HAN and its jamo (LVT)
        ("\u{1E69}", "s\u{323}\u{307}"),  // ṩ and s with dot below and dot above
        ("s\u{323}\u{307}", "s\u{307}\u{323}"),  // the two marks in either order (canonical reordering)
        ("\u{344}", "\u{308}\u{301}"),  // COMBINING GREEK DIALYTIKA TONOS
        ("\u{F900}", "\u{8C48}"),  // a CJK compatibility ideograph with a singleton decomposition
        ("\u{2000}", "\u{2002}"),  // EN QUAD and EN SPACE
        ("\u{1F80}", "\u{3B1}\u{313}\u{345}"),  // ᾀ: alpha, psili, ypogegrammeni
    ]

    /// Different names that are not even canonically equivalent (compatibility only, or case), for contrast.
    static let distinctPairs: [(String, String)] = [
        ("\u{FB01}", "fi"), ("\u{2460}", "1"), ("\u{FF21}", "A"), ("k", "K"), ("\u{E9}", "e"),
    ]

    static var allPairs: [(String, String)] { equivalentPairs + distinctPairs }

    /// `{"first":1,"second":2}` as JSON text, the names written as they are.
    static func document(_ first: String, _ second: String) -> Data {
        Data("{\"\(first)\":1,\"\(second)\":2}".utf8)
    }

    /// The name written with `\uXXXX` escapes for every non-ASCII scalar.
    static func escaped(_ text: String) -> String {
        text.unicodeScalars.map { scalar -> String in
            if scalar.isASCII { return String(scalar) }
            let utf16 = Array(String(scalar).utf16)
            return utf16.map { "\\u" + String(format: "%04x", $0) }.joined()
        }.joined()
    }

    @Test("the pairs really are what the table says (String == versus bytes)", arguments: equivalentPairs)
    func pairsAreCanonicallyEquivalent(_ first: String, _ second: String) {
        #expect(first == second, "String == takes the pair for one name")
        #expect(!first.utf8.elementsEqual(second.utf8))
        #expect(JSONKey(first) != JSONKey(second))
        #expect(Set([JSONKey(first), JSONKey(second)]).count == 2)
        #expect(JSONKey(first) < JSONKey(second) || JSONKey(second) < JSONKey(first))
    }

    @Test("JSONKey equality, hashing and order are the bytes'", arguments: allPairs)
    func keySemantics(_ first: String, _ second: String) {
        let key = JSONKey(first)
        #expect(key == JSONKey(String(decoding: Array(first.utf8), as: UTF8.self)))
        #expect(key.hashValue == JSONKey(first + "").hashValue)
        #expect(key != JSONKey(second))
        var members: [JSONKey: Int] = [JSONKey(first): 1]
        #expect(members[second] == nil, "a lookup never finds another spelling")
        members[second] = 2
        #expect(members.count == 2)
        #expect(members[first] == 1)
        #expect(
            (JSONKey(first) < JSONKey(second)) == first.utf8.lexicographicallyPrecedes(second.utf8),
            "order is byte order"
        )
    }

    @Test("an object holding both spellings is kept whole and round-trips through the encoder", arguments: allPairs)
    func parserKeepsBoth(_ first: String, _ second: String) throws {
        for (left, right) in [(first, second), (second, first)] {
            let value = try JSONParser.parse(Self.document(left, right))
            let members = try #require(value.objectValue)
            #expect(members.count == 2)
            #expect(members[left] == .number(1))
            #expect(members[right] == .number(2))
            let bytes = value.canonicalBytes()
            #expect(try JSONParser.parse(Data(bytes)) == value)
            #expect(try JSONParser.parse(Data(bytes)).canonicalBytes() == bytes, "canonical bytes are a fixed point")
            // Written in byte order, each name as its own bytes.
            let (low, high) = left.utf8.lexicographicallyPrecedes(right.utf8) ? (left, right) : (right, left)
            let lowValue = low.utf8.elementsEqual(left.utf8) ? 1 : 2
            let expected = "{\"\(low)\":\(lowValue),\"\(high)\":\(3 - lowValue)}"
            #expect(bytes == Array(expected.utf8))
        }
        // The same, with the names written as \u escapes.
        let escapedValue = try JSONParser.parse(Self.document(Self.escaped(first), Self.escaped(second)))
        #expect(escapedValue == (try JSONParser.parse(Self.document(first, second))))
    }

    @Test("the same name twice is a duplicate key, however it is escaped", arguments: allPairs)
    func trueDuplicatesAreRefused(_ first: String, _ second: String) {
        for name in [first, second] {
            for (left, right) in [(name, name), (Self.escaped(name), name), (name, Self.escaped(name))] {
                do {
                    _ = try JSONParser.parse(Self.document(left, right))
                    Issue.record("\(Self.escaped(name)) twice was accepted")
                } catch {
                    #expect(error.kind == .duplicateKey, "\(error)")
                    #expect(error.reason.contains("duplicate key"), "\(error.reason)")
                    #expect(error.reason.contains("I-JSON"), "\(error.reason)")
                    #expect(!Printable.containsControl(error.reason))
                }
            }
        }
    }

    @Test("nested objects and arrays keep both spellings at every depth", arguments: equivalentPairs)
    func nested(_ first: String, _ second: String) throws {
        let text = "[{\"x\":{\"\(first)\":[1],\"\(second)\":{\"\(second)\":true,\"\(first)\":false}}}]"
        let value = try JSONParser.parse(Data(text.utf8))
        let inner = try #require(value.arrayValue?.first?["x"]?.objectValue)
        #expect(inner.count == 2)
        #expect(inner[first] == .array([.number(1)]))
        #expect(inner[second]?.objectValue?.count == 2)
        #expect(inner[second]?[first] == .bool(false))
        #expect(inner[second]?[JSONKey(second)] == .bool(true))
        #expect(try JSONParser.parse(Data(value.canonicalBytes())) == value)
    }

    static let intake = EventIntake(
        catalog: Catalog(custom: [
            CatalogEntry(
                key: "payout",
                type: NotificationType("payments"),
                description: "Payout",
                defaults: [.email: true]
            )
        ]),
        notifiers: [1: .email]
    )

    @Test("intake accepts data holding both spellings and stores both", arguments: equivalentPairs)
    func intakeKeepsBoth(_ first: String, _ second: String) throws {
        let text =
            #"{"key":"payout","organization":"acme","recipients":[{"user":"u1"}],"data":"#
            + "{\"\(first)\":\"one\",\"\(second)\":\"two\"}}"
        let events = try Self.intake.parseDocument(Data(text.utf8), now: Date(timeIntervalSince1970: 1_800_000_000))
        let event = try #require(events.first)
        #expect(event.event.data.count == 2)
        #expect(event.event.data[first] == .string("one"))
        #expect(event.event.data[second] == .string("two"))
        let canonical = try JSONParser.parse(event.canonicalBody)
        #expect(canonical["data"]?.objectValue?.count == 2)
        // The stores' body keeps both names, and reads them back.
        let stored = StoredEventBody.encode(event.event)
        let read = try StoredEventBody.decode(stored)
        #expect(read == event.event)
        #expect(read.data[first] == .string("one"))
        #expect(read.data[second] == .string("two"))
    }

    @Test("a duplicate data member is refused as a duplicate key, naming where", arguments: allPairs)
    func intakeRefusesDuplicates(_ first: String, _: String) {
        let text =
            #"{"key":"payout","organization":"acme","recipients":[{"user":"u1"}],"data":"#
            + "{\"\(first)\":1,\"\(Self.escaped(first))\":2}}"
        do {
            _ = try Self.intake.parseDocument(Data(text.utf8), now: Date(timeIntervalSince1970: 1_800_000_000))
            Issue.record("accepted")
        } catch {
            #expect(error.details.count == 1)
            #expect(error.details.first?.field == "body.data")
            #expect(error.details.first?.message.contains("duplicate key") == true, "\(error.details)")
        }
    }

    @Test("a documented field name is matched byte for byte, never by a canonically equivalent spelling")
    func documentedFieldNames() {
        for (documented, lookalike) in Self.equivalentPairs
        where documented.unicodeScalars.allSatisfy(\.isASCII)
            || lookalike.unicodeScalars.allSatisfy(\.isASCII)
        {
            let ascii = documented.unicodeScalars.allSatisfy(\.isASCII) ? documented : lookalike
            let other = ascii.utf8.elementsEqual(documented.utf8) ? lookalike : documented
            let shape = FieldShape.object([JSONKey(ascii): FieldShape.Field(.string)])
            #expect(shape.problems(of: .object([JSONKey(ascii): .string("x")]), at: "body").isEmpty)
            let problems = shape.problems(of: .object([JSONKey(other): .string("x")]), at: "body")
            #expect(problems.map(\.message) == ["is not a known field"], "\(problems)")
        }
    }

    @Test("ownership tags keep both spellings, and a rule names one of them", arguments: equivalentPairs)
    func ownershipTags(_ first: String, _ second: String) throws {
        let data: [JSONKey: JSONValue] = [
            "tags": .object([JSONKey(first): .string("one"), JSONKey(second): .string("two")])
        ]
        let subject = OwnershipSubject(data: data)
        #expect(subject.tags.count == 2)
        #expect(subject.tags[JSONKey(first)] == "one")
        #expect(subject.tags[JSONKey(second)] == "two")
    }

    @Test("JSONValue's Codable keeps names through a keyed container", arguments: equivalentPairs)
    func codableNames(_ first: String, _ second: String) throws {
        // Foundation's JSONEncoder merges the two names (its storage is `String`-keyed), which is why Herald's
        // stores and payloads do not use it for `data`; the member names JSONValue hands a coder are exact.
        let value = JSONValue.object([JSONKey(first): .number(1)])
        let data = try JSONEncoder().encode(value)
        #expect(try JSONParser.parse(data) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        #expect(JSONKey(first) != JSONKey(second))
    }
}
