import Foundation
import HeraldCore
import Testing

/// The parser against outside test material: N. Seriot's JSONTestSuite (`test_parsing`: `y_` must parse, `n_`
/// must be refused, `i_` may go either way, none may crash), from `$HERALD_JSON_TEST_SUITE`,
/// `shared/vendor/JSONTestSuite/test_parsing` beside the clone, or `.build/tools/json-test-suite/test_parsing`,
/// where `scripts/install-test-tools.sh` unpacks the copy that orjson's pinned source distribution carries (CI
/// always has it: there a missing suite is a failure, not a skip); and a table of cases of our own in the same
/// three classes that always runs.
@Suite("JSON parser conformance")
struct JSONTestSuiteTests {
    /// `y_` cases Herald refuses on purpose: I-JSON (RFC 7493) forbids duplicate member names.
    static let refusedByPolicy: Set<String> = [
        "y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json",
    ]

    static var suiteDirectory: URL? {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidates = [
            ProcessInfo.processInfo.environment["HERALD_JSON_TEST_SUITE"].map { URL(fileURLWithPath: $0) },
            repository.deletingLastPathComponent().appendingPathComponent("shared/vendor/JSONTestSuite/test_parsing"),
            repository.appendingPathComponent(".build/tools/json-test-suite/test_parsing"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    @Test("JSONTestSuite: y_ parse, n_ are refused, nothing crashes (when provided)")
    func outsideSuite() throws {
        guard let directory = Self.suiteDirectory else {
            let reason = "JSONTestSuite is not installed (bash scripts/install-test-tools.sh unpacks it)"
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("\(reason)")
            } else {
                print("skipping JSONTestSuite: \(reason)")
            }
            return
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        #expect(names.count > 300)
        var counts: [Character: (passed: Int, total: Int)] = [:]
        for name in names.sorted() {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            let parsed: Bool
            do {
                _ = try JSONParser.parse(data)
                parsed = true
            } catch {
                parsed = false
                #expect(error.reason.unicodeScalars.allSatisfy { !Printable.needsEscape($0) }, "\(name)")
            }
            let kind = name.first!
            var count = counts[kind] ?? (0, 0)
            count.total += 1
            switch kind {
            case "y":
                let expected = !Self.refusedByPolicy.contains(name)
                #expect(parsed == expected, "\(name)")
                if parsed == expected { count.passed += 1 }
            case "n":
                #expect(!parsed, "\(name) must be refused")
                if !parsed { count.passed += 1 }
            default:
                count.passed += 1
            }
            counts[kind] = count
        }
        print(
            "JSONTestSuite: "
                + counts.sorted { $0.key < $1.key }.map { "\($0.key)_ \($0.value.passed)/\($0.value.total)" }.joined(
                    separator: ", "
                )
        )
    }

    static let mustParse: [String] = [
        "{}", "[]", "0", "-0", "1e2", "1E-2", "-1.5e+300", "\"\"", "true", "false", "null", " [1 , 2] ",
        #"{"a":{"b":[{"c":null}]}}"#, #""\u0000""#, #""\ud83d\ude00""#, #""\/\b\f\n\r\t\\\"""#, "\"é\"",
        #"{"é":1,"e":2}"#, "[1e-400]", "123456789012345678901234567890",
    ]

    static let mustRefuse: [String] = [
        "", " ", "{", "[", "]", "{]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}", "{'a':1}",
        "01", "-00.0", "00.0", "00e0", "-00e0", #"["\017"]"#, "1.", ".1", "+1", "1e", "1e+", "-", "--1", "0x10", "NaN",
        "Infinity", "-Infinity", "1e400",
        "tru", "nul", "True", "[1] [2]", "\"abc", "\"\\x41\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud800\"",
        "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\t\"", "\"\n\"", "\"\u{1}\"", "[1]\u{0}", "\u{FEFF}[]",
        "{\"a\":1,\"a\":2}", "/* */ []", "[1,,2]", "\"\\\"",
    ]

    @Test("documents that must parse", arguments: mustParse)
    func parses(_ text: String) {
        #expect(throws: Never.self) { try JSONParser.parse(Data(text.utf8)) }
    }

    @Test("documents that must be refused with one printable reason", arguments: mustRefuse)
    func refuses(_ text: String) {
        do {
            _ = try JSONParser.parse(Data(text.utf8))
            Issue.record("parsed \(text.debugDescription)")
        } catch {
            #expect(error.reason.unicodeScalars.allSatisfy { !Printable.needsEscape($0) })
        }
    }

    @Test(
        "invalid UTF-8 is refused wherever it is",
        arguments: [
            [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF],
        ]
    )
    func invalidUTF8(_ bytes: [UInt8]) {
        for document in [Data([0x22] + bytes + [0x22]), Data(Array(#"{"k":""#.utf8) + bytes + Array(#""}"#.utf8))] {
            do {
                _ = try JSONParser.parse(document)
                Issue.record("parsed \(bytes)")
            } catch {
                #expect(error.kind == .invalidUTF8)
            }
        }
    }
}
