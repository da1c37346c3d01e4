import Foundation
import HeraldCore
import HeraldSQLite
import Testing

/// A seeded mutation fuzzer for the intake parser and validator and for the directory import, inside the suite:
/// deterministic (fixed seeds), bounded (fixed iterations), over a real SQLite store.
///
/// For every mutated document: no crash; a refusal is a non-empty list of problems and one printable line; an
/// accepted document stores every one of its events or, for a directory, imports whole and reads back the same
/// ids byte for byte (nothing validated fails in the store, nothing refused reaches it).
@Suite("Intake and import fuzzing (seeded mutations)", .serialized)
struct IntakeFuzzTests {
    /// Iterations per seed: the suite's bounded default, or `$HERALD_FUZZ_ITERATIONS` for a longer local run.
    static let scale = ProcessInfo.processInfo.environment["HERALD_FUZZ_ITERATIONS"].flatMap { Int($0) }

    /// SplitMix64: small, fast, and the same sequence on every machine.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
    }

    static let issue =
        #""issue":{"id":"9001","shortId":"BACKEND-1A","title":"TypeError: x","url":"https://t.test/i/1"}"#
    static let eventSeeds: [String] = [
        #"{"id":"e1","key":"assigned","organization":"acme","project":"backend","actor":{"id":"u2","name":"Ben"},\#(issue),"data":{"assignee":{"id":"u1","type":"user","name":"Ann"}},"occurredAt":"2026-11-23T10:00:00.5Z"}"#,
        #"[{"id":"e2","key":"note","organization":"acme","project":"backend",\#(issue),"data":{"text":"hi é","mentions":["u1"]}},{"id":"e3","key":"resolved","organization":"acme",\#(issue)}]"#,
        #"{"events":[{"id":"e4","key":"payout","organization":"acme","data":{"title":"Paid","n":42},"recipients":[{"channel":"email","address":"ops@acme.test","notifier":1},{"user":"u1"}]}]}"#,
        "{\"id\":\"e5\",\"key\":\"deploy\",\"organization\":\"acme\",\"data\":{\"version\":\"1.2\",\"environment\":\"prod\",\"deployId\":\"d1\",\"commits\":[{\"authorEmail\":\"a@acme.test\"}]}}\n{\"id\":\"e6\",\"key\":\"escalating\",\"organization\":\"acme\",\(issue),\"data\":{\"forecast\":10}}\n",
        #"{"id":"e7","key":"issue_alert","organization":"acme","project":"backend",\#(issue),"data":{"rule":{"id":"r1","name":"R"},"target":{"type":"issueOwners"},"fallthrough":"noOne","tags":{"env":"prod"}}}"#,
    ]

    static let directorySeed = #"""
        {"organizations":[{"id":"acme","slug":"acme","name":"Acme"}],
         "users":[{"id":"u1","organization":"acme","name":"Ann","email":"ann@acme.test","emailVerified":true,
                   "phone":"+15550000001","slackId":"U0000000001","lastActiveAt":"2026-11-20T10:00:00Z"},
                  {"id":"u2","organization":"acme","email":"ben@acme.test"}],
         "teams":[{"id":"t1","organization":"acme","slug":"backend-team","members":["u1","u2"],"slackChannel":"C0000000100"}],
         "projects":[{"id":"p1","organization":"acme","slug":"backend","teams":["t1"],"ownership":["path:src/** #backend-team"],
                      "routes":[{"id":"pd","channel":"pagerduty","notifier":3,"target":"0123456789abcdef0123456789abcdef"}],
                      "settings":{"emailNotifier":1,"otpCodeLength":6}}],
         "subscriptions":[{"issue":"9001","project":"p1","user":"u1","reason":"bookmark"}],
         "preferences":[{"user":"u1","scope":"project","scopeId":"p1","subject":"assigned","channel":"email","value":"never"}]}
        """#

    /// Pieces a mutation inserts: JSON syntax, escapes, invalid UTF-8, controls, equivalent spellings, numbers.
    static let tokens: [[UInt8]] =
        [
            "\"", "{", "}", "[", "]", ",", ":", "\\", "\\u0000", "\\ud800", "\\u0085", "\r", "\n", "\t", " ",
            "null", "true", "1e999", "-0", "5.5", "123456789012345678901234567890", "\"key\":\"x\",", "\"id\":\"e1\",",
            "é", "e\u{301}", "\u{85}", "\u{2028}", "😀", "2026-02-30T00:00:00Z", "\"phnoe\":1,", "{\"user\":\"u1\"}",
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0x00], [0x1B]]

    static func mutate(_ seed: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = seed
        for _ in 0..<(1 + random.below(2)) {
            let position = random.below(bytes.count + 1)
            switch random.below(6) {
            case 0 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] ^= UInt8(1 << random.below(8))
            case 1:
                bytes.insert(contentsOf: tokens[random.below(tokens.count)], at: position)
            case 2 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + random.below(12))
                bytes.removeSubrange(min(position, end)..<end)
            case 3 where !bytes.isEmpty:
                let start = random.below(bytes.count)
                let end = min(bytes.count, start + 1 + random.below(24))
                bytes.insert(contentsOf: bytes[start..<end], at: position)
            case 4:
                bytes = Array(bytes.prefix(position))
            default:
                bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            }
        }
        return bytes
    }

    /// Values a structural mutation puts somewhere in the tree.
    static let values: [JSONValue] = [
        .null, .bool(true), .number(0), .number(-1), .number(5.5), .number(1e30), .number(2_147_483_648),
        .string(""), .string("u1"), .string("u1\u{0}"), .string("caf\u{E9}"), .string("cafe\u{301}"),
        .string("a\r\nBcc: x@y.z"), .string("https://h.test/\u{85}"), .string("2026-11-31T00:00:00Z"),
        .string(String(repeating: "x", count: 129)), .string("user"), .string("team"), .string("member"),
        .array([]), .array([.string("u1")]), .object([:]), .object(["id": .string("u1"), "type": .string("user")]),
    ]

    /// Replaces, removes or adds one member or element somewhere in `value`: reaches the validator with
    /// well-formed JSON of the wrong shape.
    static func mutate(_ value: JSONValue, _ random: inout Random, depth: Int = 0) -> JSONValue {
        switch value {
        case .object(var members) where !members.isEmpty && (depth < 4 && random.below(3) != 0):
            let keys = members.keys.sorted()
            let key = keys[random.below(keys.count)]
            members[key] = mutate(members[key]!, &random, depth: depth + 1)
            return .object(members)
        case .array(var elements) where !elements.isEmpty && (depth < 4 && random.below(3) != 0):
            let index = random.below(elements.count)
            elements[index] = mutate(elements[index], &random, depth: depth + 1)
            return .array(elements)
        case .object(var members):
            switch random.below(3) {
            case 0 where !members.isEmpty:
                members.removeValue(forKey: members.keys.sorted()[random.below(members.count)])
            case 1:
                members[["phnoe", "prio", "id", "type", "user", "team", "address", "e\u{301}"][random.below(8)]] =
                    values[random.below(values.count)]
            default:
                return values[random.below(values.count)]
            }
            return .object(members)
        default:
            return values[random.below(values.count)]
        }
    }

    /// A byte-level or a structural mutation of `seed`, alternately.
    static func mutant(_ seed: String, _ random: inout Random) -> [UInt8] {
        if random.below(2) == 0, let value = try? JSONParser.parse(Data(seed.utf8)) {
            return mutate(value, &random).canonicalBytes()
        }
        return mutate(Array(seed.utf8), &random)
    }

    static func isOnePrintableLine(_ failure: ValidationFailure) -> Bool {
        !failure.details.isEmpty && failure.description.unicodeScalars.allSatisfy { !Printable.needsEscape($0) }
            && failure.details.allSatisfy {
                ($0.field + $0.message).unicodeScalars.allSatisfy { !Printable.needsEscape($0) }
            }
    }

    static func temporaryStore() async throws -> (SQLiteStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-fuzz-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        return (store, directory)
    }

    @Test("event documents: 4 seeds × 1,000 mutations", arguments: [UInt64(1), 2, 3, 4])
    func events(seed: UInt64) async throws {
        let intake = EventIntake(
            catalog: Catalog(custom: [
                CatalogEntry(
                    key: "payout",
                    type: NotificationType("payments"),
                    description: "",
                    defaults: [.email: true]
                )
            ]),
            notifiers: [1: .email, 2: .slack]
        )
        let (store, directory) = try await Self.temporaryStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = Random(state: seed)
        var accepted = 0
        var refused = 0
        var stored = 0
        var conflicts = 0
        for iteration in 0..<(Self.scale ?? 1000) {
            let document = Self.mutant(Self.eventSeeds[iteration % Self.eventSeeds.count], &random)
            do {
                let events = try intake.parseDocument(Data(document), now: Date(timeIntervalSince1970: 1_800_000_000))
                accepted += 1
                for event in events.map(\.event) {
                    #expect(Identifier.problem(event.id) == nil && Identifier.problem(event.organization) == nil)
                }
                // Every 5th accepted document goes to the store: all of it, in one transaction.
                // Every 3rd accepted document goes to the store: all of it in one transaction, or (a reused id
                // with another body) none of it.
                if accepted % 3 == 0 {
                    let before = try await store.status(now: Date()).events.values.reduce(0, +)
                    do {
                        let results = try await store.enqueue(events, now: Date())
                        let after = try await store.status(now: Date()).events.values.reduce(0, +)
                        let new = results.filter { if case .accepted = $0 { true } else { false } }.count
                        #expect(after - before == new)
                        #expect(results.count == events.count)
                        stored += new
                    } catch {
                        let after = try await store.status(now: Date()).events.values.reduce(0, +)
                        #expect(after == before, "a refused batch stored \(after - before) events: \(error)")
                        conflicts += 1
                    }
                }
            } catch let failure as ValidationFailure {
                refused += 1
                #expect(
                    Self.isOnePrintableLine(failure),
                    "\(String(decoding: document, as: UTF8.self).debugDescription)"
                )
            }
        }
        try await store.close()
        print(
            "fuzz events seed \(seed): \(accepted) accepted (\(stored) events stored, \(conflicts) batches refused "
                + "by the store whole), \(refused) refused"
        )
        #expect(refused > 0)
    }

    @Test("directory files: 3 seeds × 500 mutations", arguments: [UInt64(11), 12, 13])
    func directories(seed: UInt64) async throws {
        let (store, directory) = try await Self.temporaryStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = Random(state: seed)
        var accepted = 0
        for _ in 0..<(Self.scale ?? 500) {
            let document = Self.mutant(Self.directorySeed, &random)
            do {
                let existing = try await store.loadDirectory()
                let parsed = try DirectoryDocument.parse(
                    Data(document),
                    catalog: Catalog(),
                    existing: existing,
                    notifiers: [1: .email, 3: .pagerduty, 5: .sms]
                )
                accepted += 1
                // What validation accepted the store takes whole and gives back byte for byte.
                try await store.importDirectory(parsed, now: Date())
                let reloaded = try await store.loadDirectory()
                let ids = Set(reloaded.users.map { Array($0.id.utf8) })
                #expect(parsed.users.allSatisfy { ids.contains(Array($0.id.utf8)) })
                #expect(reloaded.users.count == Set(reloaded.users.map { Array($0.id.utf8) }).count)
            } catch let failure as ValidationFailure {
                #expect(
                    Self.isOnePrintableLine(failure),
                    "\(String(decoding: document, as: UTF8.self).debugDescription)"
                )
            }
        }
        try await store.close()
        print("fuzz directory seed \(seed): \(accepted) of \(Self.scale ?? 500) accepted")
    }
}
