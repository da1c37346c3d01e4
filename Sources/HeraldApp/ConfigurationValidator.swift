import Foundation
import HeraldAPI
import HeraldCore
import HeraldPostgres

/// Checks a decoded configuration and resolves its secrets, collecting every problem with its path.
struct ConfigurationValidator {
    let configuration: HeraldConfiguration
    let environment: [String: String]
    private(set) var problems: [FieldError] = []
    private(set) var secrets: [String: String] = [:]
    private(set) var catalog = Catalog()
    private(set) var retention = Retention()
    /// Notifiers left out because a secret they name is absent (`secrets.whenMissing: notConfigured`).
    private(set) var notConfigured: [NotConfiguredNotifier] = []

    init(configuration: HeraldConfiguration, environment: [String: String]) {
        self.configuration = configuration
        self.environment = environment
    }

    private mutating func fail(_ field: String, _ message: String) {
        problems.append(FieldError(field: field, message: message))
    }

    mutating func validate() {
        if !["refuse", "notConfigured"].contains(configuration.secrets.whenMissing) {
            fail(
                "secrets.whenMissing",
                "unsupported value \"\(configuration.secrets.whenMissing)\" (refuse, notConfigured)"
            )
        }
        validateStore()
        validateWorker()
        validateLog()
        if let url = configuration.links.settingsURL, let problem = AddressValidator.urlProblem(url) {
            fail("links.settingsURL", problem)
        }
        validateNotifiers()
        validateDefaults()
        validateCatalog()
        validateRetention()
        validateAuth()
        validateOTP()
        validateLinks()
        if let address = configuration.server?.metricsListen, MetricsListener.parse(address) == nil {
            fail("server.metricsListen", "must be host:port, e.g. 127.0.0.1:9425")
        }
        validateServer()
    }

    private mutating func validateStore() {
        let store = configuration.store
        switch (store.sqlite, store.postgres) {
        case (nil, nil): fail("store", "must configure sqlite or postgres")
        case (_?, _?): fail("store", "must configure exactly one of sqlite and postgres")
        case (nil, let postgres?):
            do {
                _ = try PostgresURL(postgres.url)
            } catch {
                fail("store.postgres.url", "\(error)")
            }
            if let size = postgres.poolSize, !(1...200).contains(size) {
                fail("store.postgres.poolSize", "must be between 1 and 200")
            }
            if let poll = postgres.pollMilliseconds, !(10...60_000).contains(poll) {
                fail("store.postgres.pollMilliseconds", "must be between 10 and 60000")
            }
            resolveSecret(value: postgres.password, file: postgres.passwordFile, path: "store.postgres.password")
        case (let sqlite?, nil):
            if sqlite.path.isEmpty { fail("store.sqlite.path", "must not be empty") }
            if let timeout = sqlite.busyTimeoutSeconds, !(0...600).contains(timeout) {
                fail("store.sqlite.busyTimeoutSeconds", "must be between 0 and 600")
            }
        }
    }

    private mutating func validateWorker() {
        let worker = configuration.worker
        if !(1...10_000).contains(worker.concurrency) { fail("worker.concurrency", "must be between 1 and 10000") }
        if !(5...3600).contains(worker.leaseSeconds) { fail("worker.leaseSeconds", "must be between 5 and 3600") }
        if !(1...10_000).contains(worker.batchSize) { fail("worker.batchSize", "must be between 1 and 10000") }
        if !(0.1...10_000).contains(worker.pollMilliseconds) {
            fail("worker.pollMilliseconds", "must be between 0.1 and 10000")
        }
        if !(0...600).contains(worker.shutdownSeconds) { fail("worker.shutdownSeconds", "must be between 0 and 600") }
        if !(1...10_000).contains(worker.fallthroughLimit) {
            fail("worker.fallthroughLimit", "must be between 1 and 10000")
        }
        if !(0.1...300).contains(worker.connectTimeoutSeconds) {
            fail("worker.connectTimeoutSeconds", "must be between 0.1 and 300")
        }
        if !(0.1...3600).contains(worker.requestTimeoutSeconds) {
            fail("worker.requestTimeoutSeconds", "must be between 0.1 and 3600")
        }
        if !(1...1000).contains(worker.maxHostConnections) {
            fail("worker.maxHostConnections", "must be between 1 and 1000")
        }
    }

    private mutating func validateLog() {
        if LogLevelName.parse(configuration.log.level) == nil {
            fail("log.level", "unsupported level \"\(configuration.log.level)\" (trace, debug, info, warning, error)")
        }
        if !["logfmt", "json"].contains(configuration.log.format) {
            fail("log.format", "unsupported format \"\(configuration.log.format)\" (logfmt, json)")
        }
    }

    private mutating func validateNotifiers() {
        var ids = Set<Int>()
        var names = Set<String>()
        for (index, notifier) in configuration.notifiers.enumerated() {
            let path = "notifiers[\(index)]"
            if notifier.id <= 0 { fail("\(path).id", "must be a positive integer") }
            if !ids.insert(notifier.id).inserted { fail("\(path).id", "duplicates notifier id \(notifier.id)") }
            if notifier.name.isEmpty { fail("\(path).name", "must not be empty") }
            if !names.insert(notifier.name).inserted {
                fail("\(path).name", "duplicates notifier \"\(notifier.name)\"")
            }
            guard let channel = Channel(rawValue: notifier.channel) else {
                let names = Channel.allCases.map(\.rawValue).joined(separator: ", ")
                fail("\(path).channel", "unsupported channel \"\(notifier.channel)\" (\(names))")
                continue
            }
            let sections: [(Channel, Bool)] = [
                (.email, notifier.email != nil), (.slack, notifier.slack != nil),
                (.pagerduty, notifier.pagerduty != nil), (.msteams, notifier.msteams != nil),
                (.sms, notifier.sms != nil), (.webhook, notifier.webhook != nil),
            ]
            for (other, present) in sections where present && other != channel {
                fail("\(path).\(other.rawValue)", "does not belong to a notifier of channel \(channel.rawValue)")
            }
            switch channel {
            case .email:
                guard let email = notifier.email else {
                    fail("\(path).email", "is required for channel email")
                    continue
                }
                let lower = email.url.lowercased()
                if let scheme = lower.split(separator: ":").first, !["smtp", "smtps"].contains(String(scheme)) {
                    fail("\(path).email.url", "unsupported scheme \"\(scheme)\" (smtp, smtps)")
                } else if !lower.contains("://") {
                    fail("\(path).email.url", "must be an smtp:// or smtps:// URL")
                }
                if email.from.isEmpty { fail("\(path).email.from", "must not be empty") }
                if email.from.contains("\r") || email.from.contains("\n") {
                    fail("\(path).email.from", "must not contain CR or LF")
                }
                resolveSecret(value: email.password, file: email.passwordFile, path: "\(path).email.password")
            case .slack:
                let slack = notifier.slack ?? SlackConnectionSection()
                if let api = slack.apiURL, let problem = AddressValidator.urlProblem(api) {
                    fail("\(path).slack.apiURL", problem)
                }
                resolveSecret(value: slack.token, file: slack.tokenFile, path: "\(path).slack.token")
            case .pagerduty:
                if let url = notifier.pagerduty?.eventsURL, let problem = AddressValidator.urlProblem(url) {
                    fail("\(path).pagerduty.eventsURL", problem)
                }
            case .msteams:
                break
            case .sms:
                guard let sms = notifier.sms else {
                    fail("\(path).sms", "is required for channel sms")
                    continue
                }
                if let api = sms.apiURL, let problem = AddressValidator.urlProblem(api) {
                    fail("\(path).sms.apiURL", problem)
                }
                if sms.accountSid.isEmpty { fail("\(path).sms.accountSid", "must not be empty") }
                switch (sms.from, sms.messagingServiceSid) {
                case (nil, nil): fail("\(path).sms.from", "is required unless messagingServiceSid is set")
                case (let from?, _):
                    if let problem = AddressValidator.phoneProblem(from) { fail("\(path).sms.from", problem) }
                default: break
                }
                if let budget = sms.segmentBudget, !(1...10).contains(budget) {
                    fail("\(path).sms.segmentBudget", "must be between 1 and 10")
                }
                resolveSecret(
                    value: sms.authToken,
                    file: sms.authTokenFile,
                    path: "\(path).sms.authToken",
                    required: true
                )
            case .webhook:
                let webhook = notifier.webhook ?? WebhookConnectionSection()
                resolveSecret(
                    value: webhook.signingSecret,
                    file: webhook.signingSecretFile,
                    path: "\(path).webhook.signingSecret"
                )
            }
            if !missingSecrets.isEmpty {
                notConfigured.append(
                    NotConfiguredNotifier(
                        id: notifier.id,
                        name: notifier.name,
                        channel: channel,
                        missingSecrets: missingSecrets
                    )
                )
                missingSecrets = []
            }
            if let rate = notifier.rateLimit {
                if rate.perSecond < 0 {
                    fail("\(path).rateLimit.perSecond", "must not be negative (0 turns pacing off)")
                }
                if let burst = rate.burst, burst < 1 { fail("\(path).rateLimit.burst", "must be at least 1") }
            }
            if let retry = notifier.retry {
                if let attempts = retry.maxAttempts, !(1...100).contains(attempts) {
                    fail("\(path).retry.maxAttempts", "must be between 1 and 100")
                }
                if let age = retry.maxAge, DurationText.seconds(age) == nil {
                    fail("\(path).retry.maxAge", "must be a duration such as 30m, 4h or 1d")
                }
            }
        }
    }

    private mutating func validateDefaults() {
        for (name, id) in configuration.defaults.sorted(by: { $0.key < $1.key }) {
            guard let channel = Channel(rawValue: name) else {
                fail("defaults.\(name)", "is not a channel")
                continue
            }
            guard let notifier = configuration.notifiers.first(where: { $0.id == id }) else {
                fail("defaults.\(name)", "names notifier \(id), which is not configured")
                continue
            }
            if notifier.channel != channel.rawValue {
                fail("defaults.\(name)", "names notifier \(id), which is a \(notifier.channel) notifier")
            }
        }
    }

    private mutating func validateCatalog() {
        var custom: [CatalogEntry] = []
        var keys = Set<String>()
        for (index, section) in configuration.catalog.enumerated() {
            let path = "catalog[\(index)]"
            if let problem = Catalog.validateKey(section.key) {
                fail("\(path).key", problem)
                continue
            }
            if Catalog.isBuiltIn(section.key) {
                fail("\(path).key", "\"\(section.key)\" is a built-in key")
                continue
            }
            if !keys.insert(section.key).inserted { fail("\(path).key", "duplicates \"\(section.key)\"") }
            if section.type.isEmpty { fail("\(path).type", "must not be empty") }
            var defaults: [Channel: Bool] = [:]
            for (name, enabled) in section.defaults ?? [:] {
                if let channel = Channel(rawValue: name) {
                    defaults[channel] = enabled
                } else {
                    fail("\(path).defaults.\(name)", "is not a channel")
                }
            }
            custom.append(
                CatalogEntry(
                    key: section.key,
                    type: NotificationType(section.type),
                    description: section.description ?? section.key,
                    defaults: defaults,
                    critical: section.critical ?? false,
                    builtIn: false,
                    audience: .explicit
                )
            )
        }
        catalog = Catalog(custom: custom)
    }

    private mutating func validateRetention() {
        let delivered = DurationText.seconds(configuration.retention.delivered)
        let dead = DurationText.seconds(configuration.retention.dead)
        if delivered == nil { fail("retention.delivered", "must be a duration such as 7d or 12h") }
        if dead == nil { fail("retention.dead", "must be a duration such as 30d") }
        retention = Retention(delivered: delivered ?? 7 * 86400, dead: dead ?? 30 * 86400)
    }

    private mutating func validateAuth() {
        guard let auth = configuration.auth else { return }
        for (index, token) in (auth.tokens ?? []).enumerated() {
            let path = "auth.tokens[\(index)]"
            let hex = token.sha256.lowercased()
            if hex.count != 64 || !hex.allSatisfy({ $0.isHexDigit }) {
                fail("\(path).sha256", "must be 64 hexadecimal characters (the SHA-256 of the token)")
            }
            let scopes = APIScope.allCases.map(\.rawValue)
            for scope in token.scopes where !scopes.contains(scope) {
                fail("\(path).scopes", "unknown scope \"\(scope)\"")
            }
        }
        if let jwt = auth.jwt {
            resolveSecret(value: jwt.hs256Secret, file: jwt.hs256SecretFile, path: "auth.jwt.hs256Secret")
            if let secret = secrets["auth.jwt.hs256Secret"], secret.utf8.count < APIAuthenticator.minimumSecretBytes {
                fail(
                    jwt.hs256SecretFile == nil ? "auth.jwt.hs256Secret" : "auth.jwt.hs256SecretFile",
                    "must hold at least \(APIAuthenticator.minimumSecretBytes) bytes"
                )
            }
            validatePublicKey(jwt)
        }
        if let limit = auth.preferencesPerMinute, limit < 1 {
            fail("auth.preferencesPerMinute", "must be at least 1")
        }
    }

    /// `otp`: the HMAC key of stored codes and the per-destination limits. In the container's lenient mode an
    /// absent key leaves passcodes off (503 `OTP_NOT_CONFIGURED`) instead of refusing to start.
    private mutating func validateOTP() {
        guard let otp = configuration.otp else { return }
        if configuration.secrets.leavesNotifiersOut {
            resolveOptionalSecret(value: otp.secret, file: otp.secretFile, path: "otp.secret", required: false)
            missingSecrets = []
        } else {
            resolveSecret(value: otp.secret, file: otp.secretFile, path: "otp.secret", required: true)
        }
        if let secret = secrets["otp.secret"], secret.utf8.count < Self.minimumOTPSecretBytes {
            fail(
                otp.secretFile == nil ? "otp.secret" : "otp.secretFile",
                "must hold at least \(Self.minimumOTPSecretBytes) bytes"
            )
        }
        if let limit = otp.perDestinationPerHour, !(1...1000).contains(limit) {
            fail("otp.perDestinationPerHour", "must be between 1 and 1000")
        }
        if let interval = otp.minIntervalSeconds, !(0...3600).contains(interval) {
            fail("otp.minIntervalSeconds", "must be between 0 and 3600")
        }
    }

    /// The shortest HMAC key of passcodes accepted (128 bits).
    static let minimumOTPSecretBytes = 16
    /// `links.publicURL` and `auth.linkSecret(File)` (SPEC §11.7): both or neither. The public URL must be
    /// https (RFC 8058 one-click needs it) unless it names this machine (`make run`, tests); it takes no query
    /// or fragment since paths are appended to it. The secret, like the JWT key, needs 32 bytes. With
    /// `secrets.whenMissing: notConfigured` an absent secret turns the pages off instead of refusing the file.
    private mutating func validateLinks() {
        let auth = configuration.auth
        resolveSecret(value: auth?.linkSecret, file: auth?.linkSecretFile, path: "auth.linkSecret")
        // Absent in lenient mode: the pages are off (the daemon logs it), no notifier is concerned.
        missingSecrets.removeAll { $0 == "auth.linkSecret" }
        let named = auth?.linkSecret != nil || auth?.linkSecretFile != nil
        let secretField = auth?.linkSecretFile != nil ? "auth.linkSecretFile" : "auth.linkSecret"
        if let secret = secrets["auth.linkSecret"], secret.utf8.count < 32 {
            fail(secretField, "must hold at least 32 bytes")
        }
        guard let url = configuration.links.publicURL else {
            if named { fail("links.publicURL", "is required with \(secretField) (where the links point)") }
            return
        }
        if let problem = AddressValidator.urlProblem(url) {
            fail("links.publicURL", problem)
        } else if url.contains("?") || url.contains("#") {
            fail("links.publicURL", "must not have a query or fragment (paths are appended to it)")
        } else if !url.lowercased().hasPrefix("https://") && !Self.isLoopback(url) {
            fail("links.publicURL", "must be an https:// URL (RFC 8058 one-click unsubscribe), or name this machine")
        }
        if !named { fail("auth.linkSecretFile", "is required with links.publicURL (the HMAC key of the links)") }
    }

    /// Whether an http URL names the loopback interface (`localhost`, `127.0.0.0/8`, `[::1]`).
    static func isLoopback(_ url: String) -> Bool {
        let afterScheme = url.drop(while: { $0 != ":" }).dropFirst(3)
        let authority = afterScheme.prefix(while: { $0 != "/" }).lowercased()
        let host =
            authority.hasPrefix("[")
            ? String(authority.prefix(while: { $0 != "]" }).dropFirst())
            : String(authority.prefix(while: { $0 != ":" }))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Secrets of the notifier being validated that are named but absent (lenient mode only).
    private var missingSecrets: [String] = []

    /// `auth.jwt.ed25519PublicKey(File)`: a public key, so it may be given inline; it must parse.
    private mutating func validatePublicKey(_ jwt: AuthSection.JWT) {
        let path = "auth.jwt.ed25519PublicKey"
        var text = jwt.ed25519PublicKey
        if let file = jwt.ed25519PublicKeyFile {
            guard text == nil else { return fail(path, "set either the value or its File twin, not both") }
            let resolvedPath = configuration.resolvePath(file)
            do {
                text = try String(contentsOfFile: resolvedPath, encoding: .utf8)
            } catch {
                return fail(path + "File", "cannot read \"\(resolvedPath)\" (\(ConfigurationLoader.describe(error)))")
            }
        }
        guard let text else { return }
        do {
            _ = try APIAuthenticator(tokens: [], jwt: JWTSettings(ed25519PublicKey: text), clock: SystemWallClock())
            secrets[path] = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            fail(
                jwt.ed25519PublicKeyFile == nil ? path : path + "File",
                "is not an Ed25519 public key (PEM or base64url)"
            )
        }
    }

    private mutating func validateServer() {
        guard let server = configuration.server else { return }
        if let listen = server.listen, Daemon.parseListen(listen) == nil {
            fail("server.listen", "must be host:port, e.g. 127.0.0.1:8425")
        }
        if let bytes = server.maxBodyBytes, !(1024...64 * 1024 * 1024).contains(bytes) {
            fail("server.maxBodyBytes", "must be from 1024 to 67108864")
        }
    }

    /// Resolves a secret given literally as `${ENV}` or through a file; a literal secret in the file is refused.
    /// With `secrets.whenMissing: notConfigured`, a notifier secret whose variable is unset or whose file does
    /// not exist leaves the notifier out instead (a file that exists but cannot be read, or is empty, is still
    /// refused: that is a broken deployment, not an absent secret).
    private mutating func resolveSecret(value: String?, file: String?, path: String, required: Bool = false) {
        if configuration.secrets.leavesNotifiersOut, path.hasPrefix("notifiers[") || path == "auth.linkSecret" {
            resolveOptionalSecret(value: value, file: file, path: path, required: required)
            return
        }
        switch (value, file) {
        case (nil, nil):
            if required { fail(path, "is required (use \(path.split(separator: ".").last ?? "")File or ${ENV_VAR})") }
        case (_?, _?):
            fail(path, "set either the value or its File twin, not both")
        case (let value?, nil):
            guard value.hasPrefix("${"), value.hasSuffix("}"), value.count > 3 else {
                fail(
                    path,
                    "must not hold the secret itself; use \(path.split(separator: ".").last ?? "")File or ${ENV_VAR}"
                )
                return
            }
            let name = String(value.dropFirst(2).dropLast())
            guard let resolved = environment[name], !resolved.isEmpty else {
                fail(path, "environment variable \(name) is not set")
                return
            }
            secrets[path] = resolved
        case (nil, let file?):
            let resolvedPath = configuration.resolvePath(file)
            do {
                let text = try String(contentsOfFile: resolvedPath, encoding: .utf8)
                let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if secret.isEmpty {
                    fail(path + "File", "\"\(resolvedPath)\" is empty")
                } else {
                    secrets[path] = secret
                }
            } catch {
                fail(path + "File", "cannot read \"\(resolvedPath)\" (\(ConfigurationLoader.describe(error)))")
            }
        }
    }
}

extension ConfigurationValidator {
    /// `resolveSecret` for `secrets.whenMissing: notConfigured`: the variable when set, else the file when it
    /// exists, else the secret is recorded as missing.
    fileprivate mutating func resolveOptionalSecret(value: String?, file: String?, path: String, required: Bool) {
        let name = path.split(separator: ".").last.map(String.init) ?? path
        if value == nil, file == nil {
            if required { fail(path, "is required (use \(name)File or ${ENV_VAR})") }
            return
        }
        if let value {
            guard value.hasPrefix("${"), value.hasSuffix("}"), value.count > 3 else {
                fail(path, "must not hold the secret itself; use \(name)File or ${ENV_VAR}")
                return
            }
            let variable = String(value.dropFirst(2).dropLast())
            if let resolved = environment[variable], !resolved.isEmpty {
                secrets[path] = resolved
                return
            }
        }
        if let file {
            let resolvedPath = configuration.resolvePath(file)
            if FileManager.default.fileExists(atPath: resolvedPath) {
                do {
                    let secret = try String(contentsOfFile: resolvedPath, encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                    if secret.isEmpty {
                        fail(path + "File", "\"\(resolvedPath)\" is empty")
                    } else {
                        secrets[path] = secret
                    }
                } catch {
                    fail(path + "File", "cannot read \"\(resolvedPath)\" (\(ConfigurationLoader.describe(error)))")
                }
                return
            }
        }
        missingSecrets.append(path)
    }
}

/// A notifier left out of a running daemon because a secret it names is absent; reported by `herald
/// check-config`, the start-up log and `/readyz` instead of refusing to start.
public struct NotConfiguredNotifier: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var channel: Channel
    /// The secret fields that are absent (`notifiers[1].slack.token`).
    public var missingSecrets: [String]
}

/// Log level names of the configuration.
enum LogLevelName {
    static func parse(_ name: String) -> String? {
        ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(name) ? name : nil
    }
}
