import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

@Suite("store.postgres configuration")
struct PostgresConfigurationTests {
    func problems(_ store: String, environment: [String: String] = [:]) -> [FieldError] {
        do {
            _ = try ConfigurationLoader.load(
                yaml: "store:\n" + store,
                baseDirectory: FileManager.default.temporaryDirectory,
                environment: environment
            )
            return []
        } catch {
            return error.problems
        }
    }

    @Test func aCompleteSectionIsAccepted() throws {
        let loaded = try ConfigurationLoader.load(
            yaml: """
                store:
                  postgres:
                    url: "postgres://herald@db.internal:5433/herald?sslmode=disable"
                    password: "${PGPASS}"
                    poolSize: 4
                    pollMilliseconds: 100
                    listen: false
                """,
            baseDirectory: FileManager.default.temporaryDirectory,
            environment: ["PGPASS": "pg-SECRET"]
        )
        let postgres = try #require(loaded.configuration.store.postgres)
        #expect(postgres.poolSize == 4)
        #expect(postgres.pollMilliseconds == 100)
        #expect(postgres.listen == false)
        #expect(loaded.secret("store.postgres.password") == "pg-SECRET")
    }

    @Test(arguments: [
        ("  postgres:\n    url: \"mysql://h/d\"\n", "store.postgres.url"),
        ("  postgres:\n    url: \"postgres://herald:secret@h/d\"\n", "store.postgres.url"),
        ("  postgres:\n    url: \"postgres://herald@h\"\n", "store.postgres.url"),
        ("  postgres:\n    url: \"postgres://herald@h/d?sslmode=verify-full\"\n", "store.postgres.url"),
        ("  postgres:\n    url: \"postgres://herald@h/d\"\n    poolSize: 0\n", "store.postgres.poolSize"),
        (
            "  postgres:\n    url: \"postgres://herald@h/d\"\n    pollMilliseconds: 1\n",
            "store.postgres.pollMilliseconds"
        ),
        ("  postgres:\n    url: \"postgres://herald@h/d\"\n    password: \"plain\"\n", "store.postgres.password"),
        ("  postgres:\n    url: \"postgres://herald@h/d\"\n    pool: 3\n", "store.postgres.pool"),
        ("  postgres:\n    url: \"postgres://herald@h/d\"\n  sqlite:\n    path: h.db\n", "store"),
    ])
    func badSettingsNameTheirPath(store: String, path: String) {
        let found = problems(store)
        #expect(found.contains { $0.field == path }, "\(found)")
    }
}
