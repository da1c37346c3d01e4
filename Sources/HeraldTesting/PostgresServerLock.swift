/// Keeps the tests that stop or restart the shared throwaway PostgreSQL server (`scripts/with-postgres.sh`) apart
/// from every other test using it: suites run in parallel in one test process, and a store test whose server
/// goes away under it would fail for no fault of its own. Ordinary tests hold it shared; a test that takes the
/// server down holds it alone. Waiters are served in arrival order, so a test that needs it alone is not starved.
public actor PostgresServerLock {
    /// The one lock of the test process.
    public static let shared = PostgresServerLock()

    private var holders = 0
    private var exclusive = false
    private var waiting: [(exclusive: Bool, resume: CheckedContinuation<Void, Never>)] = []

    /// Runs `body` while no test has the server down.
    public nonisolated func sharing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await holding(exclusive: false, body)
    }

    /// Runs `body` while no other test uses the server (for stopping or restarting it).
    public nonisolated func alone<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await holding(exclusive: true, body)
    }

    private nonisolated func holding<T: Sendable>(exclusive: Bool, _ body: () async throws -> T) async throws -> T {
        await acquire(exclusive: exclusive)
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    private func acquire(exclusive wantsAlone: Bool) async {
        if waiting.isEmpty, !exclusive, !wantsAlone || holders == 0 {
            holders += 1
            exclusive = wantsAlone
            return
        }
        await withCheckedContinuation { continuation in waiting.append((wantsAlone, continuation)) }
    }

    private func release() {
        holders -= 1
        if holders == 0 { exclusive = false }
        // Admit waiters in order while they fit: any number sharing, or one alone once nobody holds it.
        while let next = waiting.first, !exclusive, !next.exclusive || holders == 0 {
            waiting.removeFirst()
            holders += 1
            exclusive = next.exclusive
            next.resume.resume()
        }
    }
}
