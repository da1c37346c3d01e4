import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

/// `secrets.whenMissing`: the container image starts with absent secrets, reporting those notifiers as not
/// configured; everywhere else an absent secret still refuses the file.
@Suite struct MissingSecretsTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-secrets-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static func yaml(
        whenMissing: String?,
        slack: String,
        twilio: String = #"authTokenFile: "twilio-token""#
    )
        -> String
    {
        var text = "store: { sqlite: { path: \"h.db\" } }\n"
        if let whenMissing { text += "secrets: { whenMissing: \(whenMissing) }\n" }
        text += """
            notifiers:
              - id: 2
                name: slack-bot
                channel: slack
                slack: { \(slack) }
              - id: 4
                name: teams
                channel: msteams
                msteams: {}
              - id: 5
                name: twilio
                channel: sms
                sms: { accountSid: "AC1", from: "+15550001111", \(twilio) }

            """
        return text
    }

    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigurationError) -> LoadedConfiguration {
        try ConfigurationLoader.load(yaml: yaml, baseDirectory: directory, environment: environment)
    }

    func problems(_ yaml: String, environment: [String: String] = [:]) -> [FieldError] {
        do {
            _ = try load(yaml, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func byDefaultAnAbsentSecretRefusesTheFile() {
        let found = problems(Self.yaml(whenMissing: nil, slack: #"token: "${SLACK_TOKEN}""#))
        #expect(
            found.contains(
                FieldError(field: "notifiers[0].slack.token", message: "environment variable SLACK_TOKEN is not set")
            )
        )
        #expect(found.contains { $0.field == "notifiers[2].sms.authTokenFile" }, "\(found)")
        let both = problems(
            Self.yaml(whenMissing: "refuse", slack: #"token: "${SLACK_TOKEN}", tokenFile: "slack-token""#),
            environment: ["SLACK_TOKEN": "xoxb-1"]
        )
        #expect(both.contains { $0.field == "notifiers[0].slack.token" && $0.message.contains("not both") })
    }

    @Test func notConfiguredLeavesOutOnlyTheNotifiersWhoseSecretIsAbsent() throws {
        let loaded = try load(
            Self.yaml(whenMissing: "notConfigured", slack: #"token: "${SLACK_TOKEN}", tokenFile: "slack-token""#)
        )
        #expect(
            loaded.notConfigured == [
                NotConfiguredNotifier(
                    id: 2,
                    name: "slack-bot",
                    channel: .slack,
                    missingSecrets: ["notifiers[0].slack.token"]
                ),
                NotConfiguredNotifier(
                    id: 5,
                    name: "twilio",
                    channel: .sms,
                    missingSecrets: ["notifiers[2].sms.authToken"]
                ),
            ]
        )
        let providers = try ProviderFactory.makeProviders(loaded)
        #expect(providers.all.map(\.notifier.id) == [4])
        #expect(providers.provider(for: .slack) == nil)
    }

    @Test func theVariableWinsOverTheFileAndTheFileServesWhenTheVariableIsUnset() throws {
        try "xoxb-from-file\n".write(
            to: directory.appendingPathComponent("slack-token"),
            atomically: true,
            encoding: .utf8
        )
        try "twilio-from-file".write(
            to: directory.appendingPathComponent("twilio-token"),
            atomically: true,
            encoding: .utf8
        )
        let yaml = Self.yaml(whenMissing: "notConfigured", slack: #"token: "${SLACK_TOKEN}", tokenFile: "slack-token""#)
        let fromEnvironment = try load(yaml, environment: ["SLACK_TOKEN": "xoxb-from-env"])
        #expect(fromEnvironment.secret("notifiers[0].slack.token") == "xoxb-from-env")
        #expect(fromEnvironment.notConfigured.isEmpty)
        let fromFile = try load(yaml, environment: ["SLACK_TOKEN": ""])
        #expect(fromFile.secret("notifiers[0].slack.token") == "xoxb-from-file")
        #expect(fromFile.secret("notifiers[2].sms.authToken") == "twilio-from-file")
        #expect(try ProviderFactory.makeProviders(fromFile).all.map(\.notifier.id) == [2, 4, 5])
    }

    @Test func aBrokenSecretIsStillRefusedInNotConfiguredMode() throws {
        try "\n".write(to: directory.appendingPathComponent("slack-token"), atomically: true, encoding: .utf8)
        let empty = problems(Self.yaml(whenMissing: "notConfigured", slack: #"tokenFile: "slack-token""#))
        #expect(empty.contains { $0.field == "notifiers[0].slack.tokenFile" && $0.message.contains("is empty") })
        let literal = problems(Self.yaml(whenMissing: "notConfigured", slack: #"token: "xoxb-literal""#))
        #expect(literal.contains { $0.field == "notifiers[0].slack.token" && $0.message.contains("must not hold") })
        let unnamed = problems(Self.yaml(whenMissing: "notConfigured", slack: "", twilio: ""))
        #expect(unnamed.contains { $0.field == "notifiers[2].sms.authToken" && $0.message.contains("is required") })
    }

    @Test func anUnknownModeIsRefusedNamingTheField() {
        let found = problems(Self.yaml(whenMissing: "ignore", slack: ""))
        #expect(found.contains { $0.field == "secrets.whenMissing" && $0.message.contains("notConfigured") })
    }

    @Test func theContainerConfigurationStartsWithNoSecretAtAll() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let yaml = try String(
            contentsOf: root.appendingPathComponent("config/herald.container.yaml"),
            encoding: .utf8
        )
        // The secret files under /run/secrets do not exist on a development machine.
        let loaded = try load(yaml)
        #expect(loaded.configuration.store.sqlite?.path == "/var/lib/herald/herald.db")
        #expect(loaded.notConfigured.map(\.id) == [1, 2, 5, 6])
        #expect(try ProviderFactory.makeProviders(loaded).all.map(\.notifier.id) == [3, 4])
        let withSlack = try load(yaml, environment: ["HERALD_SLACK_TOKEN": "xoxb-env"])
        #expect(withSlack.notConfigured.map(\.id) == [1, 5, 6])
    }
}
