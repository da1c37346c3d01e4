import Foundation
import HeraldCore
import HeraldSQLite
import Testing

@testable import HeraldApp

/// `herald enqueue --stream` validates each line's bytes like a whole document: invalid UTF-8 is refused,
/// never stored as U+FFFD; the other lines are stored; a notifier of the configuration is checked.
@Suite("Stream enqueue", .serialized)
struct StreamEnqueueTests {
    static let good = Array(
        #"{"id":"s-ok","key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":"T"}}"#.utf8
    )

    static let badLines: [(String, [UInt8])] = [
        (
            "lone continuation byte",
            Array(#"{"id":"s-bad","key":"resolved","organization":"ac"#.utf8) + [0x80] + Array(#"me"}"#.utf8)
        ),
        (
            "truncated sequence",
            Array(
                #"{"id":"s-bad","key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":"T"#
                    .utf8
            ) + [0xE2, 0x82] + Array(#""}}"#.utf8)
        ),
        (
            "surrogate as UTF-8",
            Array(
                #"{"id":"s-bad","key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":""#
                    .utf8
            ) + [0xED, 0xA0, 0x80] + Array(#""}}"#.utf8)
        ),
        (
            "unknown notifier",
            Array(
                #"{"id":"s-bad","key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":"T"},"recipients":[{"channel":"slack","address":"C0123456789","notifier":9}]}"#
                    .utf8
            )
        ),
    ]

    @Test("a bad line is refused and stores nothing; the good line is stored", arguments: badLines)
    func badLine(_ name: String, _ line: [UInt8]) async throws {
        let workspace = try ImportCommandTests.Workspace()
        let path = workspace.directory.appendingPathComponent("stream.jsonl").path
        let contents = Self.good + [0x0A] + line + [0x0A]
        try Data(contents).write(to: URL(fileURLWithPath: path))
        let status = await Commands.enqueue(configPath: workspace.configPath, input: path, stream: true)
        #expect(status == 1, "\(name)")
        let store = try SQLiteStore(path: workspace.directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        #expect(try await store.eventRecord(id: "s-ok") != nil)
        #expect(try await store.eventRecord(id: "s-bad") == nil, "\(name) was stored")
        try await store.close()
    }
}
