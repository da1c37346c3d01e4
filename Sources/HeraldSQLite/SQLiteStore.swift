import Foundation
import GRDB
import HeraldCore

/// The embedded store (SPEC §13): one SQLite file in WAL mode, opened through a GRDB `DatabasePool` —
/// a single writer connection that serialises every write transaction, plus reader connections.
///
/// Several processes may open the same file at once (`herald enqueue` writes while `herald serve` runs):
/// every write is one `BEGIN IMMEDIATE` transaction that waits up to the busy timeout for the file lock,
/// then fails with `StoreError.unavailable` having applied nothing.
public final class SQLiteStore: Store {
    /// The open database; GRDB's pool is thread-safe and `Sendable`.
    let pool: DatabasePool
    /// True when opened read-only (`herald status`, `herald explain` on a file they may not write).
    let readOnly: Bool
    /// Wakes a daemon's `SQLiteChangeWatcher` after each committed write; nil in the daemon itself.
    private let announcer: WriteAnnouncer?
    /// Checkpoints the log off the writer's path; only in the daemon.
    let checkpointer: BackgroundCheckpointer?

    /// Background checkpoints that copied log pages so far; nil when this store leaves checkpoints to SQLite.
    package var backgroundCheckpoints: Int? { checkpointer?.checkpoints.load(ordering: .relaxed) }

    /// Opens (and creates, unless `readOnly`) the database at `path`, creating its parent directory if missing.
    ///
    /// - Parameters:
    ///   - path: The database file, e.g. `/var/lib/herald/herald.db`.
    ///   - readOnly: Open without write access; writes then fail with `StoreError.unavailable`.
    ///   - busyTimeout: How long a transaction waits for a lock held by another connection or process.
    ///   - announcesWrites: Touch the wake file after every committed write so that a daemon watching the file
    ///     (`SQLiteChangeWatcher`) wakes at once. The daemon opens its own store without it.
    ///   - checkpointsInBackground: Copy the write-ahead log into the database file from a thread of its own
    ///     instead of in the commit that fills it (`BackgroundCheckpointer`); the daemon's store does, one-shot
    ///     commands leave it to the daemon or to their last connection's close.
    /// - Throws: `StoreError.unavailable` when the file cannot be opened.
    public init(
        path: String,
        readOnly: Bool = false,
        busyTimeout: TimeInterval = 5,
        announcesWrites: Bool = true,
        checkpointsInBackground: Bool = false
    ) throws {
        self.readOnly = readOnly
        announcer = announcesWrites && !readOnly ? WriteAnnouncer(databasePath: path) : nil
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
        if !readOnly {
            do {
                try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
            } catch {
                throw StoreError.unavailable("open: cannot create the database directory \(parent.path)")
            }
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        // Two cores: more readers than this only add page caches (memory) without adding throughput.
        configuration.maximumReaderCount = 3
        configuration.prepareDatabase { db in
            // WAL + NORMAL: a commit is durable against a process crash; only the OS crashing can lose the last
            // transactions (SPEC §13).
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // SQLite's page cache is heap memory of this process, 2 MB per connection by default; the file's pages
            // stay in the OS cache anyway, so a miss costs a read(), not a disk access. The writer keeps what the
            // hot path touches (the queue index and the newest pages), a reader what one query needs.
            let cacheKiB = db.configuration.readonly ? SQLiteStore.readerCacheKiB : SQLiteStore.writerCacheKiB
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
            if !db.configuration.readonly {
                let pages =
                    checkpointsInBackground
                    ? BackgroundCheckpointer.writerFallbackPages : BackgroundCheckpointer.commandLinePages
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(pages)")
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            checkpointer =
                checkpointsInBackground && !readOnly ? try BackgroundCheckpointer(path: path) : nil
        } catch let error as DatabaseError {
            throw Self.translate(error, operation: "open")
        }
    }

    /// The page cache of the writer connection, in KiB.
    static let writerCacheKiB = 1024
    /// The page cache of each reader connection, in KiB.
    static let readerCacheKiB = 512

    /// Applies pending migrations. Safe to run from several processes at once; read-only stores only check
    /// that the schema is current.
    public func migrate() async throws {
        let migrator = Self.migrator
        if readOnly {
            guard try await read("migrate", migrator.hasCompletedMigrations) else {
                throw StoreError.unavailable("migrate: the database schema is out of date (run herald migrate)")
            }
            return
        }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                migrator.asyncMigrate(pool) { result in
                    continuation.resume(with: result.map { _ in () })
                }
            }
        } catch {
            // GRDB reads the applied migrations before taking the write lock, so a process racing this one can
            // have applied them first; then our attempt failed harmlessly (its transaction rolled back).
            if (try? await pool.read(migrator.hasCompletedMigrations)) == true { return }
            if let error = error as? DatabaseError { throw Self.translate(error, operation: "migrate") }
            throw error
        }
    }

    /// Applies the migrations up to and including `migration` only, e.g. `"v1"`: for tests that build a database
    /// as an older Herald left it, then check that `migrate()` upgrades it.
    package func migrate(upTo migration: String) throws {
        do {
            try Self.migrator.migrate(pool, upTo: migration)
        } catch let error as DatabaseError {
            throw Self.translate(error, operation: "migrate")
        }
    }

    /// Closes every connection. The store must not be used afterwards.
    public func close() async throws {
        checkpointer?.stop()
        do {
            try pool.close()
        } catch let error as DatabaseError {
            throw Self.translate(error, operation: "close")
        }
    }

    /// Runs `updates` in one `BEGIN IMMEDIATE` transaction on the writer, mapping lock and I/O failures.
    func write<T: Sendable>(_ operation: String, _ updates: @Sendable (Database) throws -> T) async throws -> T {
        do {
            let result = try await pool.write(updates)
            announcer?.announce()
            checkpointer?.noteWrite()
            return result
        } catch let error as DatabaseError {
            throw Self.translate(error, operation: operation)
        }
    }

    /// Runs one short, indexed query on a reader connection, on the calling thread: no hop to GRDB's queue and back
    /// (two thread wake-ups per API read, SPEC §16 W6), and no `BEGIN`/`COMMIT` around it (a W6 profile put the
    /// explicit read transaction at 12 % of the daemon's CPU): a single statement is its own transaction in SQLite,
    /// so it sees one consistent state anyway. Only for closures that run exactly one statement and take
    /// microseconds; a reader connection is free at once in WAL mode, so the caller never waits on a writer.
    func readNow<T: Sendable>(_ operation: String, _ value: (Database) throws -> T) throws -> T {
        do {
            return try pool.unsafeRead(value)
        } catch let error as DatabaseError {
            throw Self.translate(error, operation: operation)
        }
    }

    /// Runs `value` in one read transaction on a reader connection.
    func read<T: Sendable>(_ operation: String, _ value: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch let error as DatabaseError {
            throw Self.translate(error, operation: operation)
        }
    }
}
