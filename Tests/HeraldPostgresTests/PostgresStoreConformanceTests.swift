import HeraldCore
import HeraldPostgres
import HeraldTesting
import Testing

/// The store conformance suite against a real PostgreSQL server, one fresh database per check.
@Suite(.enabled(if: PostgresTestDatabase.serverURL != nil || printSkip()))
struct PostgresStoreConformanceTests {
    @Test(arguments: StoreConformance.checks.map(\.name))
    func conformance(_ name: String) async throws {
        try await PostgresServerLock.shared.sharing { try await self.conformanceBody(name) }
    }

    private func conformanceBody(_ name: String) async throws {
        let check = try #require(StoreConformance.check(named: name))
        let store = try await PostgresTestDatabase.makeStore()
        do {
            try await check.run(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

/// Prints why the Postgres suites are skipped; returns false so the suite stays disabled.
func printSkip() -> Bool {
    print("skipping PostgreSQL tests: \(PostgresTestDatabase.skipReason)")
    return false
}
