import Foundation
import HeraldCore
import HeraldPostgres
import Logging
import PostgresNIO

/// A throwaway database on the server `HERALD_TEST_POSTGRES_URL` names (`scripts/with-postgres.sh` starts one
/// and sets it; CI always does). Without it the Postgres tests are skipped with that reason printed.
enum PostgresTestDatabase {
    static let urlVariable = "HERALD_TEST_POSTGRES_URL"

    /// The server's URL, or nil (and a printed reason) when none is configured.
    static var serverURL: String? {
        guard let url = ProcessInfo.processInfo.environment[urlVariable], !url.isEmpty else { return nil }
        return url
    }

    static var skipReason: String {
        "\(urlVariable) is not set: run under scripts/with-postgres.sh to test the PostgreSQL store"
    }

    /// The store suites run in parallel with everything else: on a busy machine a fresh database's migrations
    /// can take longer than the product's default timeouts, which are about a database that stopped answering.
    static let loadedMachineTimeout: Duration = .seconds(60)

    static let logger = Logger(label: "herald-postgres-tests") { _ in SwiftLogNoOpLogHandler() }

    /// Creates an empty database and returns its URL.
    static func create() async throws -> String {
        guard let server = serverURL else { throw SkipError(reason: skipReason) }
        let parsed = try PostgresURL(server)
        let name = "herald_test_\(UInt64.random(in: 0...UInt64.max))"
        let configuration = PostgresConnection.Configuration(
            host: parsed.host,
            port: parsed.port,
            username: parsed.user,
            password: nil,
            database: parsed.database,
            tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        defer { Task { try? await connection.close() } }
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        return "postgres://\(parsed.user)@\(parsed.host):\(parsed.port)/\(name)?sslmode=disable"
    }

    /// A store on a new empty database.
    static func makeStore(timeSource: PostgresStoreOptions.TimeSource = .caller) async throws -> PostgresStore {
        let url = try await create()
        return try PostgresStore(
            options: PostgresStoreOptions(
                url: url,
                poolSize: 4,
                timeSource: timeSource,
                operationTimeout: loadedMachineTimeout,
                connectionWait: loadedMachineTimeout
            ),
            logger: logger
        )
    }
}

/// Thrown when no server is configured.
struct SkipError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
