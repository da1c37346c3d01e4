import Foundation
import HeraldCore
import PostgresNIO

extension PostgresStore {
    /// The advisory lock key migrations hold (`pg_advisory_xact_lock`), so instances starting together apply
    /// each migration once: the second waits, then finds it applied.
    static let migrationLock: Int64 = 0x4865_7261_6C64_0001

    /// The schema, one numbered migration per released change. Never edit a shipped migration: add the next.
    ///
    /// Everything lives in the `herald` schema. Times are `timestamptz`. The queue tables carry partial indexes
    /// over the rows still waiting (rule 7): delivered history never enters the claim index.
    static let migrations: [(version: Int, statements: [String])] = [
        (
            1,
            [
                "CREATE SCHEMA IF NOT EXISTS herald",
                """
                CREATE TABLE herald.events (
                    seq bigserial PRIMARY KEY,
                    id text NOT NULL UNIQUE,
                    state text NOT NULL,
                    due_at timestamptz NOT NULL,
                    accepted_at timestamptz NOT NULL,
                    key text NOT NULL,
                    organization text NOT NULL,
                    project text,
                    rejection text,
                    body bytea NOT NULL,
                    canonical_body bytea NOT NULL
                )
                """,
                // The fan-out claim walks this in seq order and stops after its batch.
                """
                CREATE INDEX events_ready ON herald.events (seq) INCLUDE (due_at)
                WHERE state IN ('accepted', 'fanningOut')
                """,
                "CREATE INDEX events_accepted ON herald.events (accepted_at) WHERE state IN ('fannedOut', 'rejected')",
                """
                CREATE TABLE herald.idempotency_keys (
                    key text PRIMARY KEY,
                    event_id text NOT NULL REFERENCES herald.events (id) ON DELETE CASCADE,
                    created_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX idempotency_keys_event ON herald.idempotency_keys (event_id)",
                "CREATE INDEX idempotency_keys_created ON herald.idempotency_keys (created_at)",
                """
                CREATE TABLE herald.deliveries (
                    id bigserial PRIMARY KEY,
                    event_id text NOT NULL REFERENCES herald.events (id),
                    state text NOT NULL,
                    due_at timestamptz NOT NULL,
                    attempts integer NOT NULL,
                    lease_token bigint,
                    lease_owner text,
                    channel text NOT NULL,
                    notifier_id integer NOT NULL,
                    recipient_kind text NOT NULL,
                    recipient_id text,
                    recipient_address text NOT NULL,
                    recipient_name text,
                    reason text NOT NULL,
                    destination text NOT NULL,
                    content_type text NOT NULL,
                    created_at timestamptz NOT NULL,
                    window_start timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL,
                    last_error text,
                    last_reason text,
                    receipt text,
                    payload bytea NOT NULL
                )
                """,
                // The send claim: ready rows only, in due order (rule 1).
                """
                CREATE INDEX deliveries_ready ON herald.deliveries (due_at, id)
                WHERE state IN ('pending', 'retrying', 'leased')
                """,
                "CREATE INDEX deliveries_event ON herald.deliveries (event_id)",
                "CREATE INDEX deliveries_state_updated ON herald.deliveries (state, updated_at)",
                "CREATE SEQUENCE herald.lease_tokens",
                """
                CREATE TABLE herald.attempts (
                    id bigserial PRIMARY KEY,
                    delivery_id bigint NOT NULL REFERENCES herald.deliveries (id) ON DELETE CASCADE,
                    number integer NOT NULL,
                    started_at timestamptz NOT NULL,
                    duration double precision NOT NULL,
                    result text NOT NULL,
                    reason text,
                    status integer,
                    detail text NOT NULL
                )
                """,
                "CREATE INDEX attempts_delivery ON herald.attempts (delivery_id)",
                """
                CREATE TABLE herald.suppressions (
                    id bigserial PRIMARY KEY,
                    event_id text NOT NULL REFERENCES herald.events (id) ON DELETE CASCADE,
                    recipient text NOT NULL,
                    channel text,
                    reason text NOT NULL
                )
                """,
                "CREATE INDEX suppressions_event ON herald.suppressions (event_id)",
                """
                CREATE TABLE herald.directory_records (
                    kind text NOT NULL,
                    id text NOT NULL,
                    body bytea NOT NULL,
                    PRIMARY KEY (kind, id)
                )
                """,
                """
                CREATE TABLE herald.subscriptions (
                    project text NOT NULL,
                    issue text NOT NULL,
                    party_kind text NOT NULL,
                    party_id text NOT NULL,
                    active boolean NOT NULL,
                    reason text NOT NULL,
                    PRIMARY KEY (project, issue, party_kind, party_id)
                )
                """,
                """
                CREATE TABLE herald.preferences (
                    owner_kind text NOT NULL,
                    owner_id text NOT NULL,
                    scope text NOT NULL,
                    scope_id text NOT NULL,
                    subject text NOT NULL,
                    channel text NOT NULL,
                    value text NOT NULL,
                    PRIMARY KEY (owner_kind, owner_id, scope, scope_id, subject, channel)
                )
                """,
                """
                CREATE TABLE herald.address_suppressions (
                    channel text NOT NULL,
                    address text NOT NULL,
                    reason text NOT NULL,
                    created_at timestamptz NOT NULL,
                    PRIMARY KEY (channel, address)
                )
                """,
                // One row: bumped by every directory write, read by fan-out before each batch.
                "CREATE TABLE herald.directory_version (one boolean PRIMARY KEY DEFAULT true CHECK (one), value bigint NOT NULL)",
                "INSERT INTO herald.directory_version (value) VALUES (0)",
                // Rule 3: every running `herald serve`.
                """
                CREATE TABLE herald.instances (
                    id text PRIMARY KEY,
                    host text NOT NULL,
                    pid integer NOT NULL,
                    started_at timestamptz NOT NULL,
                    last_seen timestamptz NOT NULL
                )
                """,
                // Rule 5: a row per paused destination, respected by every instance's claim.
                """
                CREATE TABLE herald.destination_pauses (
                    notifier_id integer NOT NULL,
                    destination text NOT NULL,
                    until timestamptz NOT NULL,
                    PRIMARY KEY (notifier_id, destination)
                )
                """,
                // Rule 8: the transactional outbox. Upstream apps insert through herald.enqueue_event inside their
                // own transaction; fan-out moves rows into herald.events, validating each.
                """
                CREATE TABLE herald.outbox (
                    seq bigserial PRIMARY KEY,
                    body jsonb NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                """
                CREATE FUNCTION herald.enqueue_event(event jsonb) RETURNS bigint
                LANGUAGE plpgsql VOLATILE AS $$
                DECLARE
                    stored bigint;
                BEGIN
                    IF event IS NULL OR jsonb_typeof(event) <> 'object' THEN
                        RAISE EXCEPTION 'herald.enqueue_event: the event must be a JSON object'
                            USING ERRCODE = '22023';
                    END IF;
                    INSERT INTO herald.outbox (body) VALUES (event) RETURNING seq INTO stored;
                    -- One hint per transaction: PostgreSQL folds identical notifications of a transaction.
                    PERFORM pg_notify('herald_events', '');
                    RETURN stored;
                END
                $$
                """,
                """
                COMMENT ON FUNCTION herald.enqueue_event(jsonb) IS
                'Queues one Herald event (the JSON of POST /api/v1/events) in the caller''s transaction: it exists '
                'if and only if that transaction commits. Validated when a Herald instance claims it; an invalid '
                'event is kept as rejected with its reason (herald explain).'
                """,
            ]
        ),
        (
            2,
            [
                // One-time passcodes (SPEC §11.6): only the keyed hash of a code; the destination index serves the
                // abuse limits. A delivery may carry the time past which it is not sent (a passcode's expiry).
                "ALTER TABLE herald.deliveries ADD COLUMN expires_at timestamptz",
                """
                CREATE TABLE herald.otp_codes (
                    id text PRIMARY KEY,
                    project_id text NOT NULL,
                    channel text NOT NULL,
                    destination text NOT NULL,
                    code_hash text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    state text NOT NULL,
                    failed_attempts integer NOT NULL,
                    delivery_id bigint
                )
                """,
                "CREATE INDEX otp_codes_destination ON herald.otp_codes (channel, destination, created_at)",
            ]
        ),
        (
            3,
            [
                // Catalog keys added at run time (PUT /api/v1/admin/catalog/{key}): the entry's JSON by key.
                "CREATE TABLE herald.catalog_entries (key text PRIMARY KEY, body bytea NOT NULL)"
            ]
        ),
        (
            4,
            [
                // Rule 5: one token bucket per rate-limited destination, shared by every instance's claims (tokens
                // may go below zero: turns reserved ahead, as the in-process bucket does). `taken` is the size of the
                // last take, kept so the claim's upsert can return the balance before it.
                """
                CREATE TABLE herald.rate_buckets (
                    notifier_id integer NOT NULL,
                    destination text NOT NULL,
                    tokens double precision NOT NULL,
                    per_second double precision NOT NULL,
                    burst integer NOT NULL,
                    taken integer NOT NULL,
                    updated_at timestamptz NOT NULL,
                    PRIMARY KEY (notifier_id, destination)
                )
                """,
                // A queued delivery whose turn was reserved in its destination's bucket takes no second token.
                "ALTER TABLE herald.deliveries ADD COLUMN rate_token boolean NOT NULL DEFAULT false",
                // Retention of passcodes (a day past their expiry).
                "CREATE INDEX otp_codes_expires ON herald.otp_codes (expires_at)",
            ]
        ),
    ]

    /// Applies pending migrations, each in its own transaction under the advisory lock (the bookkeeping table
    /// is created under the lock too, so instances starting together never race on it).
    public func migrate() async throws {
        let logger = self.logger
        for migration in Self.migrations {
            try await transaction("migrate") { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                try await connection.query("CREATE SCHEMA IF NOT EXISTS herald", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS herald.schema_migrations (
                        version integer PRIMARY KEY,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    logger: logger
                )
                let applied = try await connection.query(
                    "SELECT 1 FROM herald.schema_migrations WHERE version = \(migration.version)",
                    logger: logger
                ).collect()
                guard applied.isEmpty else { return }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO herald.schema_migrations (version) VALUES (\(migration.version))",
                    logger: logger
                )
            }
        }
    }
}
