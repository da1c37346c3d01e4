import GRDB

extension SQLiteStore {
    /// The schema, one migration per released change. Never edit a shipped migration: add the next one.
    ///
    /// Times are INTEGER milliseconds since the Unix epoch. Small, hot columns come first in each table so
    /// that scans by state never touch the bodies (SQLite reads a row's columns in order).
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        state TEXT NOT NULL,
                        due_at INTEGER NOT NULL,
                        accepted_at INTEGER NOT NULL,
                        key TEXT NOT NULL,
                        organization TEXT NOT NULL,
                        project TEXT,
                        body TEXT NOT NULL,
                        canonical_body BLOB NOT NULL
                    );
                    CREATE INDEX events_due ON events(due_at) WHERE state IN ('accepted', 'fanningOut');
                    CREATE INDEX events_accepted ON events(accepted_at);

                    CREATE TABLE idempotency_keys (
                        key TEXT NOT NULL PRIMARY KEY,
                        event_id TEXT NOT NULL REFERENCES events(id),
                        created_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX idempotency_keys_event ON idempotency_keys(event_id);
                    CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

                    CREATE TABLE deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL REFERENCES events(id),
                        state TEXT NOT NULL,
                        due_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL,
                        channel TEXT NOT NULL,
                        notifier_id INTEGER NOT NULL,
                        recipient_kind TEXT NOT NULL,
                        recipient_id TEXT,
                        recipient_address TEXT NOT NULL,
                        recipient_name TEXT,
                        reason TEXT NOT NULL,
                        destination TEXT NOT NULL,
                        content_type TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        window_start INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        last_error TEXT,
                        last_reason TEXT,
                        receipt TEXT,
                        payload BLOB NOT NULL
                    );
                    CREATE INDEX deliveries_due ON deliveries(due_at) WHERE state IN ('pending', 'retrying', 'leased');
                    CREATE INDEX deliveries_event ON deliveries(event_id);
                    CREATE INDEX deliveries_state_updated ON deliveries(state, updated_at);

                    CREATE TABLE attempts (
                        id INTEGER PRIMARY KEY,
                        delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
                        number INTEGER NOT NULL,
                        started_at INTEGER NOT NULL,
                        duration REAL NOT NULL, -- seconds, not a point in time
                        result TEXT NOT NULL,
                        reason TEXT,
                        status INTEGER,
                        detail TEXT NOT NULL
                    );
                    CREATE INDEX attempts_delivery ON attempts(delivery_id);

                    CREATE TABLE suppressions (
                        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
                        recipient TEXT NOT NULL,
                        channel TEXT,
                        reason TEXT NOT NULL
                    );
                    CREATE INDEX suppressions_event ON suppressions(event_id);
                    """
            )
        }
        migrator.registerMigration("v2") { db in
            // The directory (SPEC §5). Organizations, users, teams and projects are stored whole, as the JSON of
            // the record (`JSONEncoder`, the directory's own shape), keyed by kind and id: fan-out loads them all
            // at once into a snapshot and never queries them one by one, so columns would only add a mapping to
            // keep in step with the model. Subscriptions and preferences are rows: fan-out writes subscriptions
            // one at a time, and both are upserted by their identity.
            try db.execute(
                sql: """
                    CREATE TABLE directory_records (
                        kind TEXT NOT NULL, -- 'organization' | 'user' | 'team' | 'project'
                        id TEXT NOT NULL,
                        body BLOB NOT NULL,
                        PRIMARY KEY (kind, id)
                    );

                    CREATE TABLE subscriptions (
                        project TEXT NOT NULL,
                        issue TEXT NOT NULL,
                        party_kind TEXT NOT NULL, -- 'user' | 'team'
                        party_id TEXT NOT NULL,
                        active INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        PRIMARY KEY (project, issue, party_kind, party_id)
                    ) WITHOUT ROWID;

                    CREATE TABLE preferences (
                        owner_kind TEXT NOT NULL, -- 'user' | 'team'
                        owner_id TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        scope_id TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        channel TEXT NOT NULL, -- '' for every channel (an option row)
                        value TEXT NOT NULL,
                        PRIMARY KEY (owner_kind, owner_id, scope, scope_id, subject, channel)
                    ) WITHOUT ROWID;

                    CREATE TABLE meta (
                        key TEXT NOT NULL PRIMARY KEY,
                        value
                    ) WITHOUT ROWID;
                    INSERT INTO meta (key, value) VALUES ('directory_version', 0);
                    """
            )
        }
        migrator.registerMigration("v3") { db in
            // Addresses a provider told us never to message again (Twilio 21610: the recipient replied STOP).
            try db.execute(
                sql: """
                    CREATE TABLE address_suppressions (
                        channel TEXT NOT NULL,
                        address TEXT NOT NULL,
                        reason TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (channel, address)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v4") { db in
            // A large group of suppressions with the same channel and reason (an ownerless alert's 4,980
            // `fallthrough_limit` users) is one row holding the JSON array of its recipients; reads expand it.
            try db.execute(sql: "ALTER TABLE suppressions ADD COLUMN grouped INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v5") { db in
            // The fence (SPEC §13 rule 2): each claim writes a fresh token; an outcome applies only while the row
            // still carries the token it was claimed with, so a worker whose lease was re-claimed cannot overwrite
            // the newer claim. NULL when the delivery is not leased.
            try db.execute(sql: "ALTER TABLE deliveries ADD COLUMN lease_token INTEGER")
        }
        migrator.registerMigration("v6") { db in
            // Destinations paused by a Retry-After, shared by every process on the file (SPEC §13 rule 5).
            try db.execute(
                sql: """
                    CREATE TABLE destination_pauses (
                        notifier_id INTEGER NOT NULL,
                        destination TEXT NOT NULL,
                        until INTEGER NOT NULL,
                        PRIMARY KEY (notifier_id, destination)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("v7") { db in
            // One-time passcodes (SPEC §11.6): only the keyed hash of a code is stored; the destination index serves
            // the abuse limits (codes per destination per hour, time since the last one). A delivery may carry the
            // time past which it is not sent any more (a passcode's expiry).
            try db.execute(
                sql: """
                    ALTER TABLE deliveries ADD COLUMN expires_at INTEGER;
                    CREATE TABLE otp_codes (
                        id TEXT NOT NULL PRIMARY KEY,
                        project_id TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        destination TEXT NOT NULL,
                        code_hash TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        failed_attempts INTEGER NOT NULL,
                        delivery_id INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX otp_codes_destination ON otp_codes(channel, destination, created_at);
                    """
            )
        }
        migrator.registerMigration("v8-queue-index") { db in
            // The queue index's predicate named three states: SQLite evaluates a list of three or more constants
            // through a temporary b-tree, built on every insert into and every update of `deliveries` (each row
            // write opened one or two), which was a large part of the send path's cost. The same set, as the two
            // states outside the queue, is two comparisons. Queries name the index's exact predicate
            // (`SQLiteStore.queued`) so the planner may use it.
            try db.execute(
                sql: """
                    DROP INDEX deliveries_due;
                    CREATE INDEX deliveries_due ON deliveries(due_at) WHERE state NOT IN ('delivered', 'dead');
                    """
            )
        }
        return migrator
    }()

    /// The states of deliveries still in the queue (pending, leased, retrying), as the predicate of the
    /// `deliveries_due` partial index (migration v8-queue-index); a query must repeat it verbatim to use the index.
    static let queued = "state NOT IN ('delivered', 'dead')"
}
