import Foundation

/// How a `PostgresStore` connects and listens (the `store.postgres` section of the configuration, SPEC §14).
public struct PostgresStoreOptions: Sendable, Hashable {
    /// Where lease and due times come from.
    public enum TimeSource: Sendable, Hashable {
        /// The database's `now()` (SPEC §13 rule 1): instances with skewed clocks still agree on every lease.
        /// Times a caller passes (a retry at `now + 30 s`) keep only their distance from the caller's `now`.
        case database
        /// The `now` each call passes, as given: for the store conformance suite, which replays fixed times.
        case caller
    }

    /// `postgres://user@host:port/database`; the password comes from `password`, never from the URL.
    public var url: String
    /// The password read from `passwordFile`, if any.
    public var password: String?
    /// Connections in the pool.
    public var poolSize: Int
    /// How often the stages poll for work when no NOTIFY arrives (the safety net, SPEC §13 rule 4).
    public var pollMilliseconds: Int
    /// Whether to LISTEN for hints; false for connection poolers in transaction mode.
    public var listen: Bool
    /// Where lease and due times come from.
    public var timeSource: TimeSource
    /// How long one store operation may wait for the database (connecting included) before it fails with
    /// `StoreError.unavailable`, so that intake answers 503 instead of hanging while the database restarts.
    public var operationTimeout: Duration
    /// How long one operation waits for a pooled connection within `operationTimeout`: while the database is down
    /// the pool can only retry connecting, and intake should answer 503 soon rather than at the full timeout.
    public var connectionWait: Duration
    /// How long the server lets a session of ours sit idle inside a transaction before ending it
    /// (`idle_in_transaction_session_timeout`, sent at connection start unless poll-only: a pooler in transaction
    /// mode has its own). Our transactions never wait on anything between statements, so only a stalled process
    /// (SIGSTOP, a frozen VM) trips it — and its row locks, which `SKIP LOCKED` claims would pass over for as long
    /// as it stays stopped, are released.
    public var idleTransactionTimeout: Duration

    public init(
        url: String,
        password: String? = nil,
        poolSize: Int = 8,
        pollMilliseconds: Int = 250,
        listen: Bool = true,
        timeSource: TimeSource = .database,
        operationTimeout: Duration = .seconds(10),
        connectionWait: Duration = .seconds(5),
        idleTransactionTimeout: Duration = .seconds(10)
    ) {
        self.url = url
        self.password = password
        self.poolSize = poolSize
        self.pollMilliseconds = pollMilliseconds
        self.listen = listen
        self.timeSource = timeSource
        self.operationTimeout = operationTimeout
        self.connectionWait = connectionWait
        self.idleTransactionTimeout = idleTransactionTimeout
    }
}

/// The parts of a `postgres://` URL.
public struct PostgresURL: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    /// `sslmode`: `disable` or `prefer` (the default).
    public var tls: Bool

    /// Parses `postgres://user@host[:port]/database[?sslmode=disable|prefer]`; throws a one-line reason.
    public init(_ text: String) throws(PostgresURLError) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else { throw PostgresURLError("must be a postgres:// URL") }
        guard components.password == nil else {
            throw PostgresURLError("must not hold a password; use passwordFile")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresURLError("must name a host") }
        guard let user = components.user, !user.isEmpty else { throw PostgresURLError("must name a user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresURLError("must name a database (postgres://user@host/database)")
        }
        var tls = true
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "disable"): tls = false
            case ("sslmode", "prefer"): tls = true
            case ("sslmode", let value):
                throw PostgresURLError("sslmode \"\(value ?? "")\" is not supported (disable or prefer)")
            default: throw PostgresURLError("unknown parameter \"\(item.name)\"")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.database = database.removingPercentEncoding ?? database
        self.tls = tls
    }
}

/// Why a `store.postgres.url` is refused.
public struct PostgresURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}
