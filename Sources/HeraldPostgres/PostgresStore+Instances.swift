import Foundation
import HeraldCore
import PostgresNIO

/// What a NOTIFY hinted at (SPEC §13 rule 4): work may be waiting; polling remains the safety net.
public enum PostgresHint: String, Sendable, CaseIterable {
    /// Events were stored (intake, the outbox).
    case events = "herald_events"
    /// Deliveries became due (fan-out stored some, dead letters were replayed).
    case deliveries = "herald_deliveries"
    /// The directory changed: fan-out reloads its snapshot.
    case directory = "herald_directory"
}

/// One registered `herald serve` process (SPEC §13 rule 3), for `herald status`.
public struct PostgresInstance: Sendable, Hashable {
    /// `host:pid:random`, as in `deliveries.lease_owner`.
    public var id: String
    public var host: String
    public var pid: Int
    public var startedAt: Date
    public var lastSeen: Date
    /// Seconds since `lastSeen`, by the database's clock.
    public var secondsSinceSeen: Double
}

extension PostgresStore {
    /// Registers this process in `herald.instances` (SPEC §13 rule 3) and keeps its `last_seen` current every
    /// `interval` until the store closes; instances unseen for a day are forgotten. The heartbeat runs even when
    /// the first registration fails (the database is down at start): it registers the process when it comes back.
    public func register(interval: Duration = .seconds(5)) async throws {
        let id = instanceId
        let host = ProcessInfo.processInfo.hostName
        let pid = Int64(getpid())
        let logger = self.logger
        @Sendable func upsert(_ connection: PostgresConnection) async throws {
            try await connection.query(
                """
                INSERT INTO herald.instances (id, host, pid, started_at, last_seen)
                VALUES (\(id), \(host), \(pid), now(), now())
                ON CONFLICT (id) DO UPDATE SET last_seen = now()
                """,
                logger: logger
            )
        }
        keep(
            Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let self, !Task.isCancelled else { return }
                    do {
                        try await self.run("heartbeat") { connection in
                            try await upsert(connection)
                            try await connection.query(
                                "DELETE FROM herald.instances WHERE last_seen < now() - interval '1 day'",
                                logger: logger
                            )
                        }
                    } catch {
                        logger.warning("instance heartbeat failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        )
        try await run("register") { connection in try await upsert(connection) }
    }

    /// The registered instances, most recently started first.
    public func instances() async throws -> [PostgresInstance] {
        let logger = self.logger
        return try await run("instances") { connection in
            let rows = try await connection.query(
                """
                SELECT id, host, pid, started_at, last_seen, extract(epoch FROM now() - last_seen)::float8
                FROM herald.instances ORDER BY started_at DESC, id
                """,
                logger: logger
            )
            var result: [PostgresInstance] = []
            for try await (id, host, pid, startedAt, lastSeen, age) in rows.decode(
                (String, String, Int32, Date, Date, Double).self
            ) {
                result.append(
                    PostgresInstance(
                        id: id,
                        host: host,
                        pid: Int(pid),
                        startedAt: startedAt,
                        lastSeen: lastSeen,
                        secondsSinceSeen: max(0, age)
                    )
                )
            }
            return result
        }
    }

    /// Whether `listen(_:)` subscribes to hints (false in poll-only mode).
    public var listening: Bool { options.listen }

    /// LISTENs for hints on a dedicated connection until the store closes, calling `handler` for each; a lost
    /// connection is re-established with backoff (the stages keep polling meanwhile). Does nothing when
    /// `options.listen` is false (a pooler in transaction mode cannot hold a LISTEN).
    public func listen(_ handler: @escaping @Sendable (PostgresHint) -> Void) {
        guard options.listen else { return }
        let configuration = connectionConfiguration
        let logger = self.logger
        keep(
            Task {
                var backoff: Duration = .milliseconds(100)
                var attempt = 0
                while !Task.isCancelled {
                    attempt += 1
                    do {
                        let connection = try await PostgresConnection.connect(
                            configuration: configuration,
                            id: attempt,
                            logger: logger
                        )
                        backoff = .milliseconds(100)
                        do {
                            try await withThrowingTaskGroup(of: Void.self) { group in
                                for hint in PostgresHint.allCases {
                                    group.addTask {
                                        try await connection.listen(on: hint.rawValue) { notifications in
                                            for try await _ in notifications { handler(hint) }
                                        }
                                    }
                                }
                                // Work may have arrived while no one listened.
                                for hint in PostgresHint.allCases { handler(hint) }
                                try await group.next()
                                group.cancelAll()
                            }
                        } catch {
                            if !Task.isCancelled {
                                logger.warning("LISTEN connection lost; reconnecting", metadata: ["error": "\(error)"])
                            }
                        }
                        try? await connection.close()
                    } catch {
                        if Task.isCancelled { return }
                        logger.debug("LISTEN connection failed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
        )
    }

    // MARK: Shared destination pauses (rule 5)

    /// Records a pause every instance honours (its claims skip the destination until then); keeps the later time.
    public func pauseDestination(_ pause: DestinationPause, now: Date) async throws {
        let base = self.base(now)
        let offset = pause.until.timeIntervalSince(now)
        let logger = self.logger
        try await run("pauseDestination") { connection in
            try await connection.query(
                """
                INSERT INTO herald.destination_pauses (notifier_id, destination, until)
                VALUES (\(Int64(pause.notifierId)), \(pause.destination),
                    coalesce(\(base)::timestamptz, now()) + make_interval(secs => \(offset)::float8))
                ON CONFLICT (notifier_id, destination) DO UPDATE SET until = greatest(
                    herald.destination_pauses.until, excluded.until)
                """,
                logger: logger
            )
        }
    }

    /// Destinations paused past `now`, with their end in the caller's clock; expired rows are removed.
    public func destinationPauses(now: Date) async throws -> [DestinationPause] {
        let base = self.base(now)
        let logger = self.logger
        return try await run("destinationPauses") { connection in
            try await connection.query(
                """
                DELETE FROM herald.destination_pauses
                WHERE until <= coalesce(\(base)::timestamptz, now()) - interval '1 minute'
                """,
                logger: logger
            )
            let rows = try await connection.query(
                """
                SELECT notifier_id, destination, extract(epoch FROM until - coalesce(\(base)::timestamptz, now()))::float8
                FROM herald.destination_pauses WHERE until > coalesce(\(base)::timestamptz, now())
                """,
                logger: logger
            )
            var pauses: [DestinationPause] = []
            for try await (notifier, destination, remaining) in rows.decode((Int32, String, Double).self) {
                pauses.append(
                    DestinationPause(
                        notifierId: Int(notifier),
                        destination: destination,
                        until: now.addingTimeInterval(remaining)
                    )
                )
            }
            return pauses
        }
    }
}
