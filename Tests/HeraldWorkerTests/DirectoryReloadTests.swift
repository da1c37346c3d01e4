import Foundation
import HeraldCore
import HeraldSQLite
import HeraldWorker
import Synchronization
import Testing

@Suite("Directory reloads")
struct DirectoryReloadTests {
    @Test func theReloadHookRunsOncePerDirectoryVersion() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-reload-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        let reloads = Atomic<Int>(0)
        let audience = DirectoryAudience(afterReload: { reloads.add(1, ordering: .relaxed) })

        try await audience.refresh(from: store)
        try await audience.refresh(from: store)
        #expect(reloads.load(ordering: .relaxed) == 1)

        let document = try DirectoryDocument.parse(
            Data(#"{"organizations":[{"id":"acme","slug":"acme","name":"Acme"}]}"#.utf8),
            catalog: Catalog(),
            existing: DirectoryDocument()
        )
        try await store.importDirectory(document, now: Date())
        try await audience.refresh(from: store)
        try await audience.refresh(from: store)
        #expect(reloads.load(ordering: .relaxed) == 2)
        try await store.close()
    }
}
