import HeraldSQLite
import HeraldTesting
import Testing

/// The store conformance suite against a real SQLite file, a fresh one per check.
@Suite struct SQLiteStoreConformanceTests {
    @Test(arguments: StoreConformance.checks.map(\.name))
    func conformance(_ name: String) async throws {
        let check = try #require(StoreConformance.check(named: name))
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: directory.appendingPathComponent("state/herald.db").path)
            do {
                try await check.run(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
        }
    }
}
