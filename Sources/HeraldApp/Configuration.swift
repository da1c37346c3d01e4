import Foundation
import HeraldCore

/// The daemon's configuration file (SPEC §14), decoded into typed sections. Secrets are not kept here:
/// fields ending in `File` or holding `${ENV_VAR}` are resolved by `SecretSource` when the notifiers are built.
public struct HeraldConfiguration: Sendable, Decodable {
    public var server: ServerSection?
    public var store: StoreSection
    public var worker: WorkerSection
    public var log: LogSection
    public var links: LinksSection
    public var email: EmailDefaultsSection
    public var defaults: [String: Int]
    public var notifiers: [NotifierSection]
    public var auth: AuthSection?
    public var catalog: [CatalogSection]
    public var retention: RetentionSection
    public var templates: TemplatesSection?
    public var secrets: SecretsSection
    public var otp: OTPSection?

    /// The directory relative paths in the file are resolved against.
    public var baseDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)

    enum CodingKeys: String, CodingKey {
        case server, store, worker, log, links, email, defaults, notifiers, auth, catalog, retention, templates
        case secrets
        case otp
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        server = try container.decodeIfPresent(ServerSection.self, forKey: .server)
        store = try container.decode(StoreSection.self, forKey: .store)
        worker = try container.decodeIfPresent(WorkerSection.self, forKey: .worker) ?? WorkerSection()
        log = try container.decodeIfPresent(LogSection.self, forKey: .log) ?? LogSection()
        links = try container.decodeIfPresent(LinksSection.self, forKey: .links) ?? LinksSection()
        email = try container.decodeIfPresent(EmailDefaultsSection.self, forKey: .email) ?? EmailDefaultsSection()
        defaults = try container.decodeIfPresent([String: Int].self, forKey: .defaults) ?? [:]
        notifiers = try container.decodeIfPresent([NotifierSection].self, forKey: .notifiers) ?? []
        auth = try container.decodeIfPresent(AuthSection.self, forKey: .auth)
        catalog = try container.decodeIfPresent([CatalogSection].self, forKey: .catalog) ?? []
        retention = try container.decodeIfPresent(RetentionSection.self, forKey: .retention) ?? RetentionSection()
        templates = try container.decodeIfPresent(TemplatesSection.self, forKey: .templates)
        secrets = try container.decodeIfPresent(SecretsSection.self, forKey: .secrets) ?? SecretsSection()
        otp = try container.decodeIfPresent(OTPSection.self, forKey: .otp)
    }

    /// The templates directory: the configured one, else `templates/` beside the file when it exists.
    public var templatesDirectory: URL? {
        if let directory = templates?.directory { return URL(fileURLWithPath: resolvePath(directory)) }
        let beside = baseDirectory.appendingPathComponent("templates")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: beside.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return beside
        }
        return nil
    }

    /// Resolves `path` against the configuration file's directory.
    public func resolvePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return baseDirectory.appendingPathComponent(path).standardizedFileURL.path
    }
}

/// `server`: the API listeners (used by the HTTP API).
public struct ServerSection: Sendable, Decodable {
    public var listen: String?
    public var metricsListen: String?
    /// The largest request body the API reads (SPEC §14: 262144).
    public var maxBodyBytes: Int?
}

/// `store`: where the queue lives.
public struct StoreSection: Sendable, Decodable {
    public struct SQLite: Sendable, Decodable {
        public var path: String
        /// Seconds a writer waits for a lock before giving up.
        public var busyTimeoutSeconds: Double?
    }

    /// `store.postgres`: several instances on one PostgreSQL database (SPEC §13, §14).
    public struct Postgres: Sendable, Decodable {
        /// `postgres://user@host[:port]/database[?sslmode=disable|prefer]`, without a password.
        public var url: String
        /// `${ENV_VAR}` holding the password (or use `passwordFile`).
        public var password: String?
        public var passwordFile: String?
        /// Connections in each instance's pool.
        public var poolSize: Int?
        /// How often stages poll when no NOTIFY arrives.
        public var pollMilliseconds: Int?
        /// LISTEN for hints (false behind a pooler in transaction mode: polling only).
        public var listen: Bool?
    }

    public var sqlite: SQLite?
    public var postgres: Postgres?
}

/// `worker`: concurrency, batches, leases.
public struct WorkerSection: Sendable, Decodable {
    public var concurrency: Int = 256
    public var leaseSeconds: Double = 60
    public var batchSize: Int = 256
    /// How often the fan-out stage looks for events written by other processes when no change notification
    /// woke it, in milliseconds (writes to the SQLite file wake it at once).
    public var pollMilliseconds: Double = 250
    /// How long shutdown waits for transfers in flight, in seconds.
    public var shutdownSeconds: Double = 10
    /// SPEC §6.3: how many recently active members an ownerless alert falls through to.
    public var fallthroughLimit: Int = 20
    /// Per-attempt connect timeout, seconds (SPEC §10: 5).
    public var connectTimeoutSeconds: Double = 5
    /// Per-attempt total timeout, seconds (SPEC §10: 15).
    public var requestTimeoutSeconds: Double = 15
    /// Connections per provider host.
    public var maxHostConnections: Int = 8

    init() {}

    enum CodingKeys: String, CodingKey {
        case concurrency, leaseSeconds, batchSize, pollMilliseconds, shutdownSeconds, fallthroughLimit
        case connectTimeoutSeconds, requestTimeoutSeconds, maxHostConnections
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        concurrency = try container.decodeIfPresent(Int.self, forKey: .concurrency) ?? 256
        leaseSeconds = try container.decodeIfPresent(Double.self, forKey: .leaseSeconds) ?? 60
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize) ?? 256
        pollMilliseconds = try container.decodeIfPresent(Double.self, forKey: .pollMilliseconds) ?? 250
        shutdownSeconds = try container.decodeIfPresent(Double.self, forKey: .shutdownSeconds) ?? 10
        fallthroughLimit = try container.decodeIfPresent(Int.self, forKey: .fallthroughLimit) ?? 20
        connectTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .connectTimeoutSeconds) ?? 5
        requestTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .requestTimeoutSeconds) ?? 15
        maxHostConnections = try container.decodeIfPresent(Int.self, forKey: .maxHostConnections) ?? 8
    }
}

/// `log`: level and format.
public struct LogSection: Sendable, Decodable {
    public var level: String = "info"
    public var format: String = "logfmt"

    init() {}

    enum CodingKeys: String, CodingKey { case level, format }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        level = try container.decodeIfPresent(String.self, forKey: .level) ?? "info"
        format = try container.decodeIfPresent(String.self, forKey: .format) ?? "logfmt"
    }
}

/// `links`: where rendered messages point.
public struct LinksSection: Sendable, Decodable {
    /// The notification settings page, `{key}` standing for the event key.
    public var settingsURL: String?
    /// Where Herald's own pages are reached from outside (one-click unsubscribe and the preference center,
    /// SPEC §11.7), e.g. `https://herald.example.com`; links are `<publicURL>/u/<token>` and
    /// `<publicURL>/preferences?token=…`.
    public var publicURL: String?
}

/// `email`: message defaults.
public struct EmailDefaultsSection: Sendable, Decodable {
    public var subjectPrefix: String = "[Herald]"

    init() {}

    enum CodingKeys: String, CodingKey { case subjectPrefix }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        subjectPrefix = try container.decodeIfPresent(String.self, forKey: .subjectPrefix) ?? "[Herald]"
    }
}

/// One entry of `notifiers`.
public struct NotifierSection: Sendable, Decodable {
    public var id: Int
    public var name: String
    public var channel: String
    public var email: EmailConnectionSection?
    public var slack: SlackConnectionSection?
    public var pagerduty: PagerDutyConnectionSection?
    public var msteams: MSTeamsConnectionSection?
    public var sms: SMSConnectionSection?
    public var webhook: WebhookConnectionSection?
    public var rateLimit: RateLimitSection?
    public var retry: RetrySection?
}

/// `notifiers[].email`.
public struct EmailConnectionSection: Sendable, Decodable {
    public var url: String
    public var username: String?
    public var password: String?
    public var passwordFile: String?
    public var from: String
    public var allowInsecure: Bool?
}

/// `notifiers[].slack`.
public struct SlackConnectionSection: Sendable, Decodable {
    public var apiURL: String?
    public var token: String?
    public var tokenFile: String?
}

/// `notifiers[].pagerduty`.
public struct PagerDutyConnectionSection: Sendable, Decodable {
    public var eventsURL: String?
}

/// `notifiers[].msteams`.
public struct MSTeamsConnectionSection: Sendable, Decodable {
    public var allowLegacyConnectors: Bool?
}

/// `notifiers[].sms` (Twilio-compatible).
public struct SMSConnectionSection: Sendable, Decodable {
    public var apiURL: String?
    public var accountSid: String
    public var authToken: String?
    public var authTokenFile: String?
    public var from: String?
    public var messagingServiceSid: String?
    public var segmentBudget: Int?
}

/// `notifiers[].webhook`.
public struct WebhookConnectionSection: Sendable, Decodable {
    public var signingSecret: String?
    public var signingSecretFile: String?
}

/// `notifiers[].rateLimit`: per destination; `perSecond: 0` turns pacing off.
public struct RateLimitSection: Sendable, Decodable {
    public var perSecond: Double
    public var burst: Int?
}

/// `notifiers[].retry`: overrides of the channel's retry limits.
public struct RetrySection: Sendable, Decodable {
    public var maxAttempts: Int?
    public var maxAge: String?
}

/// `auth` (used by the HTTP API).
public struct AuthSection: Sendable, Decodable {
    public struct Token: Sendable, Decodable {
        public var name: String
        public var sha256: String
        public var scopes: [String]
    }

    public struct JWT: Sendable, Decodable {
        public var hs256Secret: String?
        public var hs256SecretFile: String?
        public var ed25519PublicKey: String?
        public var ed25519PublicKeyFile: String?
        /// The required `iss` claim, when set.
        public var issuer: String?
        /// The `aud` value tokens must carry, when set.
        public var audience: String?
    }

    public var tokens: [Token]?
    public var jwt: JWT?
    public var preferencesPerMinute: Int?
    /// The HMAC key of the links to Herald's own pages (`linkSecretFile` or `${ENV}`); without it the pages
    /// are off and emails carry no `List-Unsubscribe`.
    public var linkSecret: String?
    public var linkSecretFile: String?
}

/// One entry of `catalog`: a custom event key.
public struct CatalogSection: Sendable, Decodable {
    public var key: String
    public var type: String
    public var description: String?
    public var defaults: [String: Bool]?
    public var critical: Bool?
}

/// `templates`: where `<key>/<channel>.mustache` files of custom keys live.
public struct TemplatesSection: Sendable, Decodable {
    public var directory: String?
}

/// `secrets`: what a notifier secret that is named but absent means.
public struct SecretsSection: Sendable, Decodable {
    /// `refuse` (the default): an unset `${ENV}` or a missing file refuses the configuration.
    /// `notConfigured` (the container image): the notifier is left out and reported as not configured, and a
    /// secret may name both a variable and a file (the variable wins when set).
    public var whenMissing: String = "refuse"

    init() {}

    enum CodingKeys: String, CodingKey { case whenMissing }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        whenMissing = try container.decodeIfPresent(String.self, forKey: .whenMissing) ?? "refuse"
    }

    /// Whether an absent notifier secret leaves the notifier out instead of refusing the file.
    public var leavesNotifiersOut: Bool { whenMissing == "notConfigured" }
}

/// `otp`: one-time passcodes (SPEC §11.6). Without a secret the OTP routes answer 503 `OTP_NOT_CONFIGURED`.
public struct OTPSection: Sendable, Decodable {
    /// `${ENV_VAR}` holding the HMAC key of stored codes (or use `secretFile`).
    public var secret: String?
    public var secretFile: String?
    /// At most this many codes to one destination in any hour (SPEC: 5).
    public var perDestinationPerHour: Int?
    /// At least this long between two codes to one destination (SPEC: 30).
    public var minIntervalSeconds: Int?
}

/// `retention`: durations such as `7d`, `12h`, `30m`.
public struct RetentionSection: Sendable, Decodable {
    public var delivered: String = "7d"
    public var dead: String = "30d"

    init() {}

    enum CodingKeys: String, CodingKey { case delivered, dead }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        delivered = try container.decodeIfPresent(String.self, forKey: .delivered) ?? "7d"
        dead = try container.decodeIfPresent(String.self, forKey: .dead) ?? "30d"
    }
}

/// Parses durations: `90s`, `30m`, `12h`, `7d`, `1w`.
public enum DurationText {
    public static func seconds(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last, let number = Double(trimmed.dropLast()), number >= 0 else { return nil }
        switch unit {
        case "s": return number
        case "m": return number * 60
        case "h": return number * 3600
        case "d": return number * 86400
        case "w": return number * 7 * 86400
        default: return nil
        }
    }
}
