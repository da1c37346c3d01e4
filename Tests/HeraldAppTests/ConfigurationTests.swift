import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

@Suite("Configuration loading and validation")
struct ConfigurationTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-config-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try? "xoxb-file-SECRET\n".write(
            to: url.appendingPathComponent("slack-token"),
            atomically: true,
            encoding: .utf8
        )
        return url
    }()

    static let valid = """
        server:
          listen: "127.0.0.1:8425"
        store:
          sqlite:
            path: "state/herald.db"
        worker:
          concurrency: 64
        log:
          level: debug
          format: json
        defaults:
          slack: 2
        notifiers:
          - id: 2
            name: slack-bot
            channel: slack
            slack:
              apiURL: "https://slack.example/api"
              tokenFile: "slack-token"
            rateLimit: { perSecond: 0 }
            retry: { maxAttempts: 4, maxAge: 30m }
          - id: 6
            name: hook
            channel: webhook
            webhook:
              signingSecret: "${HOOK_SECRET}"
        catalog:
          - key: payout_processed
            type: payments
            defaults: { email: true, slack: true }
        retention:
          delivered: 12h
          dead: 30d
        """

    func load(
        _ yaml: String,
        environment: [String: String] = ["HOOK_SECRET": "hook-env-SECRET"]
    ) throws(ConfigurationError)
        -> LoadedConfiguration
    {
        try ConfigurationLoader.load(yaml: yaml, baseDirectory: directory, environment: environment)
    }

    func problems(_ yaml: String, environment: [String: String] = ["HOOK_SECRET": "hook-env-SECRET"]) -> [FieldError] {
        do {
            _ = try load(yaml, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    @Test(
        "setting names are compared byte for byte",
        arguments: [
            ("ed25519PublicKey", "ed25519Public\u{212A}ey"), ("maxAttempts", "max\u{C5}ttempts"),
            ("perSecond", "perSecond\u{301}"),
        ]
    )
    func settingNamesByBytes(_ name: String, _ lookalike: String) {
        let yaml =
            Self.valid.replacingOccurrences(of: "rateLimit: { perSecond: 0 }", with: "rateLimit: { \(lookalike): 0 }")
            + "\nauth:\n  jwt:\n    \(lookalike): x\n"
        let found = problems(yaml)
        #expect(found.contains { $0.message == "is not a known setting" }, "\(found)")
        #expect(!found.contains { $0.field == name }, "\(found)")
    }

    @Test func loadsAValidFileResolvingPathsAndSecrets() throws {
        let loaded = try load(Self.valid)
        #expect(loaded.configuration.worker.concurrency == 64)
        #expect(loaded.configuration.worker.leaseSeconds == 60)
        #expect(loaded.secret("notifiers[0].slack.token") == "xoxb-file-SECRET")
        #expect(loaded.secret("notifiers[1].webhook.signingSecret") == "hook-env-SECRET")
        #expect(loaded.catalog.entry(for: "payout_processed")?.type == NotificationType("payments"))
        #expect(loaded.catalog.entry(for: "assigned") != nil)
        #expect(loaded.retention.delivered == 12 * 3600)
        #expect(
            loaded.configuration.resolvePath("state/herald.db")
                == directory.appendingPathComponent("state/herald.db").standardizedFileURL.path
        )
        let providers = try ProviderFactory.makeProviders(loaded)
        #expect(providers.all.map(\.notifier.id) == [2, 6])
        #expect(providers.provider(id: 2)?.notifier.retryLimits == RetryLimits(maxAttempts: 4, maxAge: 1800))
        #expect(providers.provider(id: 2)?.notifier.rateLimit.isUnlimited == true)
    }

    @Test func exampleConfigurationIsValidWithItsDevelopmentSecrets() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let yaml = try String(contentsOf: root.appendingPathComponent("config/herald.yaml"), encoding: .utf8)
        let secrets = directory.appendingPathComponent("var/secrets")
        try FileManager.default.createDirectory(at: secrets, withIntermediateDirectories: true)
        try "xoxb-dev".write(to: secrets.appendingPathComponent("slack-token"), atomically: true, encoding: .utf8)
        try "dev-secret".write(to: secrets.appendingPathComponent("webhook-secret"), atomically: true, encoding: .utf8)
        try "dev-password".write(to: secrets.appendingPathComponent("smtp-password"), atomically: true, encoding: .utf8)
        try "dev-token".write(to: secrets.appendingPathComponent("twilio-token"), atomically: true, encoding: .utf8)
        try "dev-otp-secret-0123456789abcdef".write(
            to: secrets.appendingPathComponent("otp-secret"),
            atomically: true,
            encoding: .utf8
        )
        try "dev-jwt-secret-0123456789abcdef0123456789".write(
            to: secrets.appendingPathComponent("jwt-secret"),
            atomically: true,
            encoding: .utf8
        )
        try "dev-link-secret-0123456789abcdef0123456789".write(
            to: secrets.appendingPathComponent("link-secret"),
            atomically: true,
            encoding: .utf8
        )
        let config = directory.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: root.appendingPathComponent("config/templates"),
            to: config.appendingPathComponent("templates")
        )
        let loaded = try ConfigurationLoader.load(yaml: yaml, baseDirectory: config, environment: [:])
        #expect(try ProviderFactory.makeProviders(loaded).all.count == loaded.configuration.notifiers.count)
        #expect(Daemon.linkSigner(loaded)?.publicURL == "http://127.0.0.1:8425", "make run serves the pages")
    }

    @Test(arguments: [
        ("worker:\n  concurrency: 0\n", "worker.concurrency"),
        ("worker:\n  concurency: 5\n", "worker.concurency"),
        ("log:\n  level: loud\n", "log.level"),
        ("log:\n  format: xml\n", "log.format"),
        ("retention:\n  delivered: forever\n", "retention.delivered"),
        ("worker:\n  concurrency: many\n", "worker.concurrency"),
    ])
    func refusesBadSettingsNamingTheirPath(extra: String, path: String) {
        let yaml = "store:\n  sqlite:\n    path: \"h.db\"\n" + extra
        let found = problems(yaml)
        #expect(found.contains { $0.field == path }, "\(found)")
    }

    @Test func refusesNotifierProblemsWithTheirIndex() {
        let yaml = """
            store: { sqlite: { path: "h.db" } }
            defaults: { slack: 6, fax: 1 }
            notifiers:
              - id: 1
                name: mail
                channel: email
                email: { url: "http://mail.example", from: "x@example.com" }
              - id: 2
                name: slack
                channel: slack
                slack: { tokenFile: "missing-token" }
              - id: 2
                name: slack
                channel: slack
                slack: { token: "xoxb-literal-SECRET" }
              - id: 6
                name: hook
                channel: webhook
                webhook: { signingSecret: "${UNSET_VARIABLE}" }
              - id: 7
                name: pager
                channel: pigeon
            """
        let found = problems(yaml, environment: [:])
        let fields = Set(found.map(\.field))
        #expect(fields.contains("notifiers[0].email.url"))
        #expect(
            found.first { $0.field == "notifiers[0].email.url" }?.message == "unsupported scheme \"http\" (smtp, smtps)"
        )
        #expect(fields.contains("notifiers[1].slack.tokenFile"))
        #expect(fields.contains("notifiers[2].id"))
        #expect(fields.contains("notifiers[2].name"))
        #expect(fields.contains("notifiers[2].slack.token"))
        #expect(fields.contains("notifiers[3].webhook.signingSecret"))
        #expect(fields.contains("notifiers[4].channel"))
        #expect(fields.contains("defaults.slack"))
        #expect(fields.contains("defaults.fax"))
        // The literal secret itself never appears in an error.
        #expect(!found.contains { $0.message.contains("xoxb-literal-SECRET") })
    }

    @Test func missingRequiredSectionsAreNamed() {
        let found = problems("log:\n  level: info\n")
        #expect(found.contains { $0.field == "store" && $0.message == "is required" })
    }

    @Test func configPathFollowsFlagThenEnvironmentThenDefault() {
        #expect(ConfigurationLoader.path(explicit: "a.yaml", environment: ["HERALD_CONFIG": "b.yaml"]) == "a.yaml")
        #expect(ConfigurationLoader.path(explicit: nil, environment: ["HERALD_CONFIG": "b.yaml"]) == "b.yaml")
        #expect(ConfigurationLoader.path(explicit: nil, environment: [:]) == "/etc/herald/herald.yaml")
    }
}
