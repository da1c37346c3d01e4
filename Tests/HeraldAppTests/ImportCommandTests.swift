import Foundation
import HeraldCore
import HeraldSQLite
import Testing

@testable import HeraldApp

/// `herald import` and `herald enqueue` run in-process against a temporary configuration and SQLite file.
@Suite("Import and enqueue commands", .serialized)
struct ImportCommandTests {
    struct Workspace {
        let directory: URL
        let configPath: String

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "xoxb-cli-token".write(
                to: directory.appendingPathComponent("slack-token"),
                atomically: true,
                encoding: .utf8
            )
            configPath = directory.appendingPathComponent("herald.yaml").path
            try """
            store: { sqlite: { path: "herald.db" } }
            defaults: { slack: 2 }
            notifiers:
              - id: 2
                name: slack
                channel: slack
                slack: { apiURL: "http://127.0.0.1:1/api", tokenFile: "slack-token" }
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        }

        func write(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func directoryContents() async throws -> DirectoryDocument {
            let store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
            try await store.migrate()
            let document = try await store.loadDirectory()
            try await store.close()
            return document
        }
    }

    static let good = """
        {"organizations":[{"id":"acme","slug":"acme","name":"Acme"}],
         "users":[{"id":"u1","organization":"acme","name":"Ann","email":"ann@acme.test","emailVerified":true,
                   "phone":"+15550000001","isActive":true}],
         "teams":[{"id":"t1","organization":"acme","slug":"backend","members":["u1"]}],
         "projects":[{"id":"p1","organization":"acme","slug":"backend","name":"Backend","teams":["t1"]}]}
        """

    @Test func importsAValidFileAndUpsertsASecond() async throws {
        let workspace = try Workspace()
        #expect(
            await Commands.importDirectory(
                configPath: workspace.configPath,
                input: try workspace.write("a.json", Self.good)
            ) == 0
        )
        let second = """
            {"users":[{"id":"u2","organization":"acme","name":"Bob","email":"bob@acme.test","emailVerified":true,
                       "isActive":true}],
             "teams":[{"id":"t1","organization":"acme","slug":"backend","members":["u1","u2"]}]}
            """
        #expect(
            await Commands.importDirectory(
                configPath: workspace.configPath,
                input: try workspace.write("b.json", second)
            ) == 0
        )
        let document = try await workspace.directoryContents()
        #expect(Set(document.users.map(\.id)) == ["u1", "u2"])
        #expect(document.teams.first?.members == ["u1", "u2"])
    }

    @Test(arguments: [
        (#"{"teams":[{"id":"t9","organization":"acme","slug":"x","members":["ghost"]}]}"#, "unknown team member"),
        (
            #"{"users":[{"id":"u7","organization":"acme","name":"A","isActive":true},{"id":"u7","organization":"acme","name":"B","isActive":true}]}"#,
            "duplicate ids"
        ),
        (#"{"users":[{"id":"u8","organization":"acme","name":"C","phone":"555-0100","isActive":true}]}"#, "bad phone"),
        (#"{"users":[{"id":"u9","organization":"nowhere","name":"D","isActive":true}]}"#, "unknown organization"),
        (#"{"users":[{"id":"u10","organization":"acme","name":"E","isActive":"yes"}]}"#, "wrong type"),
        ("{not json", "malformed"),
    ])
    func refusesBadFilesAndChangesNothing(file: String, label: String) async throws {
        let workspace = try Workspace()
        #expect(
            await Commands.importDirectory(
                configPath: workspace.configPath,
                input: try workspace.write("a.json", Self.good)
            ) == 0
        )
        let before = try await workspace.directoryContents()
        let code = await Commands.importDirectory(
            configPath: workspace.configPath,
            input: try workspace.write("bad.json", file)
        )
        #expect(code != 0, "\(label)")
        #expect(try await workspace.directoryContents() == before, "\(label)")
    }

    @Test func validationErrorsNameTheEntryAndField() throws {
        let existing = try DirectoryDocument.parse(
            Data(Self.good.utf8),
            catalog: Catalog(),
            existing: DirectoryDocument()
        )
        let bad =
            #"{"users":[{"id":"u2","organization":"acme","name":"B","isActive":true},{"id":"u3","organization":"acme","name":"C","phone":"12","isActive":true}]}"#
        #expect {
            try DirectoryDocument.parse(Data(bad.utf8), catalog: Catalog(), existing: existing)
        } throws: { error in
            (error as? ValidationFailure)?.details.contains { $0.field == "users[1].phone" } == true
        }
    }

    @Test func enqueueRefusesABadBatchAndStoresNothing() async throws {
        let workspace = try Workspace()
        let batch = """
            {"id":"ok-1","key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":"T"}}
            {"id":"bad-1","key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":"T"},"recipients":[{"channel":"email","address":"a@b.c\\r\\nBcc: x@y.z"}]}
            """
        #expect(
            await Commands.enqueue(
                configPath: workspace.configPath,
                input: try workspace.write("e.jsonl", batch),
                stream: false
            ) == 65
        )
        let store = try SQLiteStore(path: workspace.directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        #expect(try await store.eventRecord(id: "ok-1") == nil)
        try await store.close()
        // The same command with a valid batch stores both, and a replay is recognised as duplicates.
        let good =
            "{\"id\":\"ok-1\",\"key\":\"resolved\",\"organization\":\"acme\",\"issue\":{\"id\":\"1\",\"shortId\":\"A-1\",\"title\":\"T\"}}\n"
        let path = try workspace.write("g.jsonl", good)
        #expect(await Commands.enqueue(configPath: workspace.configPath, input: path, stream: false) == 0)
        #expect(await Commands.enqueue(configPath: workspace.configPath, input: path, stream: false) == 0)
        #expect(await Commands.explain(configPath: workspace.configPath, eventId: "ok-1", json: true) == 0)
        #expect(await Commands.explain(configPath: workspace.configPath, eventId: "missing", json: true) == 1)
    }
}
