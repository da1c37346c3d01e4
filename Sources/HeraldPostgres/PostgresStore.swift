import Foundation
import HeraldCore
import Logging
import PostgresNIO
import Synchronization

/// The shared store (SPEC §13): several Herald instances on several machines on one PostgreSQL database.
///
/// Every method borrows a pooled connection for one statement or one transaction and gives it back before
/// returning: no transaction stays open across an HTTP send. Claims are one `FOR UPDATE SKIP LOCKED` statement
/// over a partial index; completions are one fenced `unnest` statement per batch; lease times come from the
/// database's `now()` (see `PostgresStoreOptions.TimeSource`). The connection pool reconnects with backoff when
/// the database restarts; meanwhile every operation fails within `operationTimeout` with
/// `StoreError.unavailable`, having applied nothing it acknowledged.
public final class PostgresStore: Store {
    let client: PostgresClient
    let options: PostgresStoreOptions
    let logger: Logger
    /// Identifies this process in the instance registry and in `lease_owner`.
    public let instanceId: String
    /// Validates outbox events when they are claimed (HeraldCore's intake, with the configured catalog).
    let intake: Mutex<EventIntake>
    private let runner: Mutex<Task<Void, Never>?>
    private let background = Mutex<[Task<Void, Never>]>([])
    let connectionConfiguration: PostgresConnection.Configuration
    /// The rate limits claims enforce for every instance (`shareRateLimits`), by notifier id.
    let rateLimits = Mutex<[Int: RateLimit]>([:])
    /// Set when an operation found the database unreachable, cleared by the next one that succeeds: meanwhile
    /// operations wait at most `degradedTimeout` for it, so intake answers 503 within seconds, not after the full
    /// operation timeout.
    private let unreachable = Atomic<Bool>(false)
    static let degradedTimeout: Duration = .seconds(2)

    /// Opens a pool to the database at `options.url` (connections are made lazily, on first use).
    ///
    /// - Throws: `StoreError.unavailable` when the URL cannot be used.
    public init(
        options: PostgresStoreOptions,
        intake: EventIntake = EventIntake(catalog: Catalog()),
        logger: Logger
    )
        throws
    {
        let url: PostgresURL
        do {
            url = try PostgresURL(options.url)
        } catch {
            throw StoreError.unavailable("store.postgres.url: \(error)")
        }
        var configuration = PostgresClient.Configuration(
            host: url.host,
            port: url.port,
            username: url.user,
            password: options.password,
            database: url.database,
            tls: url.tls ? .prefer(.makeClientConfiguration()) : .disable
        )
        configuration.options.maximumConnections = max(1, options.poolSize)
        configuration.options.connectTimeout = .seconds(5)
        if options.listen {
            let milliseconds =
                options.idleTransactionTimeout.components.seconds * 1000
                + options.idleTransactionTimeout.components.attoseconds / 1_000_000_000_000_000
            configuration.options.additionalStartupParameters = [
                ("idle_in_transaction_session_timeout", "\(max(1, milliseconds))")
            ]
        }
        var connection = PostgresConnection.Configuration(
            host: url.host,
            port: url.port,
            username: url.user,
            password: options.password,
            database: url.database,
            tls: url.tls ? .prefer(try Self.tlsContext()) : .disable
        )
        connection.options.connectTimeout = .seconds(5)
        self.connectionConfiguration = connection
        self.options = options
        self.logger = logger
        self.intake = Mutex(intake)
        self.instanceId = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.runner = Mutex(Task { await client.run() })
    }

    private static func tlsContext() throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: .makeClientConfiguration())
        } catch {
            throw StoreError.unavailable("store.postgres: cannot set up TLS: \(error)")
        }
    }

    /// Replaces the intake that validates outbox events (configuration reload changed the catalog).
    public func replaceIntake(_ intake: EventIntake) {
        self.intake.withLock { $0 = intake }
    }

    /// Stops the background tasks and closes every connection. The store must not be used afterwards.
    public func close() async throws {
        let tasks = background.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        if let task = runner.withLock({ $0 }) {
            task.cancel()
            await task.value
        }
    }

    /// Keeps `task` until `close()`, which cancels it.
    func keep(_ task: Task<Void, Never>) {
        background.withLock { $0.append(task) }
    }

    // MARK: Running statements

    /// Runs `body` on a pooled connection within `operationTimeout`, mapping connection and server conditions a
    /// caller can only wait out to `StoreError.unavailable` (the message names the operation, never the data).
    @discardableResult
    func run<T: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let client = self.client
        let timeout =
            unreachable.load(ordering: .relaxed)
            ? min(options.operationTimeout, Self.degradedTimeout) : options.operationTimeout
        do {
            let value = try await withDeadline(operation, timeout: timeout) { acquired in
                do {
                    return try await client.withConnection { connection in
                        acquired()
                        return try await body(connection)
                    }
                } catch {
                    throw Self.translate(error, operation: operation)
                }
            }
            if unreachable.load(ordering: .relaxed) {
                unreachable.store(false, ordering: .relaxed)
                logger.info("database reachable again")
            }
            return value
        } catch StoreError.unavailable(let reason) {
            if !unreachable.exchange(true, ordering: .relaxed) {
                logger.warning("database unavailable; retrying", metadata: ["error": "\(reason)"])
            }
            throw StoreError.unavailable(reason)
        }
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`, rolled back when it throws).
    @discardableResult
    func transaction<T: Sendable>(
        _ operation: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await run(operation) { connection in
            try await connection.query("BEGIN", logger: logger)
            let value: T
            do {
                value = try await body(connection)
            } catch {
                // A broken connection rolls back by itself; the pool discards it.
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return value
        }
    }

    /// Races `body` against the operation timeout. On timeout the caller gets `StoreError.unavailable` at once;
    /// the abandoned statement finishes (or fails) on its own, and whatever it did is safe to do twice: a lease
    /// it took expires, an outcome it recorded refuses a second copy through the fence, an event it stored
    /// answers a resubmission as a duplicate. Getting a connection has a shorter deadline (`connectionWait`):
    /// while the database is down the pool only retries connecting, and intake should answer 503 soon.
    private func withDeadline<T: Sendable>(
        _ operation: String,
        timeout: Duration,
        _ body: @escaping @Sendable (_ acquired: @escaping @Sendable () -> Void) async throws -> T
    ) async throws -> T {
        let acquireTimeout = min(timeout, options.connectionWait)
        let race = DeadlineRace<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let timer = Task {
                do {
                    try await Task.sleep(for: acquireTimeout)
                    if !race.isAcquired {
                        race.expire(
                            StoreError.unavailable("\(operation): no database connection could be made in time")
                        )
                        return
                    }
                    try await Task.sleep(for: timeout - acquireTimeout)
                    race.expire(StoreError.unavailable("\(operation): the database did not answer in time"))
                } catch {
                    // Cancelled: the operation finished first.
                }
            }
            race.run(
                Task {
                    do {
                        race.finish(.success(try await body { race.markAcquired() }))
                    } catch {
                        race.finish(.failure(error))
                    }
                    timer.cancel()
                }
            )
        }
    }

    /// Maps an error from postgres-nio to what the `Store` contract promises.
    static func translate(_ error: any Error, operation: String) -> any Error {
        if error is StoreError || error is CancellationError { return error }
        if let error = error as? PSQLError {
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                let message = error.serverInfo?[.message] ?? "server error"
                // 08: connection exception; 53: insufficient resources; 57: operator intervention (shutdown,
                // terminated backend); 40: serialization failure or deadlock (safe to retry); 58: system error.
                if ["08", "53", "57", "40", "58"].contains(String(state.prefix(2))) {
                    return StoreError.unavailable("\(operation): \(message) (SQLSTATE \(state))")
                }
                return PostgresStoreError(operation: operation, sqlState: state, message: message)
            default:
                return StoreError.unavailable("\(operation): \(error.code) (database connection)")
            }
        }
        // The pool's own error type is not public API (`_ConnectionPoolModule`); it only ever means "no connection".
        if String(reflecting: type(of: error)).contains("ConnectionPoolError") {
            return StoreError.unavailable("\(operation): cannot connect to the database (\(error))")
        }
        if error is IOError || error is ChannelError {
            return StoreError.unavailable("\(operation): database connection failed")
        }
        return error
    }

    /// The SQLSTATE of a server error, if it is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    // MARK: Time

    /// The `now` of a call as a statement parameter: nil (use the database's `now()`) or the caller's time.
    func base(_ now: Date) -> Date? {
        options.timeSource == .caller ? now : nil
    }
}

/// A server error that is not a condition to wait out: a bug or a damaged schema. The message carries the
/// server's text (which never includes bound values) and the SQLSTATE.
public struct PostgresStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var sqlState: String
    public var message: String

    public var description: String { "\(operation): \(message) (SQLSTATE \(sqlState))" }
}

/// One continuation resumed by whichever of an operation and its timeout finishes first.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var done = false
        var acquired = false
        var work: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Called before either side can finish (inside `withCheckedThrowingContinuation`).
    func start(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// The task running the operation, cancelled when the deadline passes first.
    func run(_ work: Task<Void, Never>) {
        let abandoned = state.withLock { state -> Bool in
            state.work = work
            return state.done
        }
        if abandoned { work.cancel() }
    }

    /// The operation has its connection.
    func markAcquired() {
        state.withLock { $0.acquired = true }
    }

    var isAcquired: Bool { state.withLock { $0.acquired } }

    /// The deadline passed: fails the caller (unless the operation finished) and cancels the operation.
    func expire(_ error: StoreError) {
        guard finish(.failure(error)) else { return }
        state.withLock { $0.work }?.cancel()
    }

    /// Resumes the caller unless the other side already did; returns whether this call resumed it.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard !state.done else { return nil }
            state.done = true
            defer { state.continuation = nil }
            return state.continuation
        }
        guard let continuation else { return false }
        continuation.resume(with: result)
        return true
    }
}
