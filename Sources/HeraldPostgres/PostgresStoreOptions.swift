/// How a `PostgresStore` connects and listens (the `store.postgres` section of the configuration, SPEC §14).
public struct PostgresStoreOptions: Sendable, Hashable {
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

    public init(
        url: String,
        password: String? = nil,
        poolSize: Int = 8,
        pollMilliseconds: Int = 250,
        listen: Bool = true
    ) {
        self.url = url
        self.password = password
        self.poolSize = poolSize
        self.pollMilliseconds = pollMilliseconds
        self.listen = listen
    }
}
