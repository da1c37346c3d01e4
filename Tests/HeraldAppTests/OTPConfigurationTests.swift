import Foundation
import HeraldAPI
import HeraldCore
import Testing

@testable import HeraldApp

/// The `otp` section (SPEC §14): the HMAC key of stored codes through a file or `${ENV}`, and the
/// per-destination limits, parsed as strictly as the rest of the file.
@Suite("otp configuration")
struct OTPConfigurationTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-otp-config-\(UUID().uuidString)"
        )
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try? "otp-file-SECRET-0123456789abcdef\n".write(
            to: url.appendingPathComponent("otp-secret"),
            atomically: true,
            encoding: .utf8
        )
        try? "short\n".write(to: url.appendingPathComponent("short-secret"), atomically: true, encoding: .utf8)
        return url
    }()

    static let base = "store: { sqlite: { path: \"h.db\" } }\n"

    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigurationError) -> LoadedConfiguration {
        try ConfigurationLoader.load(yaml: Self.base + yaml, baseDirectory: directory, environment: environment)
    }

    func problems(_ yaml: String, environment: [String: String] = [:]) -> [FieldError] {
        do {
            _ = try load(yaml, environment: environment)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func readsTheKeyFromAFileAndTheLimits() throws {
        let loaded = try load(
            """
            otp:
              secretFile: "otp-secret"
              perDestinationPerHour: 3
              minIntervalSeconds: 60
            """
        )
        #expect(loaded.secret("otp.secret") == "otp-file-SECRET-0123456789abcdef")
        #expect(loaded.configuration.otp?.perDestinationPerHour == 3)
        #expect(loaded.configuration.otp?.minIntervalSeconds == 60)
        #expect(loaded.secretValues.contains("otp-file-SECRET-0123456789abcdef"), "scrubbed from log output")
    }

    @Test func readsTheKeyFromTheEnvironment() throws {
        let loaded = try load(
            "otp:\n  secret: \"${OTP_KEY}\"\n",
            environment: ["OTP_KEY": "otp-env-SECRET-0123456789abcdef"]
        )
        #expect(loaded.secret("otp.secret") == "otp-env-SECRET-0123456789abcdef")
    }

    @Test func withoutTheSectionPasscodesAreOff() throws {
        let loaded = try load("")
        #expect(loaded.configuration.otp == nil)
        #expect(loaded.secret("otp.secret") == nil)
    }

    @Test(arguments: [
        ("otp:\n  secretFile: \"otp-secret\"\n  perHour: 5\n", "otp.perHour", "is not a known setting"),
        ("otp:\n  perDestinationPerHour: 5\n", "otp.secret", "is required"),
        ("otp:\n  secret: \"plain-text-secret-in-the-file\"\n", "otp.secret", "must not hold the secret itself"),
        ("otp:\n  secret: \"${UNSET_OTP_KEY}\"\n", "otp.secret", "UNSET_OTP_KEY is not set"),
        ("otp:\n  secretFile: \"missing\"\n", "otp.secretFile", "cannot read"),
        ("otp:\n  secretFile: \"short-secret\"\n", "otp.secretFile", "at least 16 bytes"),
        (
            "otp:\n  secret: \"${OTP_KEY}\"\n  secretFile: \"otp-secret\"\n", "otp.secret",
            "either the value or its File twin"
        ),
        ("otp:\n  secretFile: \"otp-secret\"\n  perDestinationPerHour: 0\n", "otp.perDestinationPerHour", "between"),
        ("otp:\n  secretFile: \"otp-secret\"\n  minIntervalSeconds: -1\n", "otp.minIntervalSeconds", "between"),
        ("otp:\n  secretFile: \"otp-secret\"\n  minIntervalSeconds: soon\n", "otp.minIntervalSeconds", "integer"),
    ])
    func refusesNamingThePath(yaml: String, path: String, message: String) {
        let found = problems(yaml, environment: ["OTP_KEY": "otp-env-SECRET-0123456789abcdef"])
        #expect(found.contains { $0.field == path && $0.message.contains(message) }, "\(found)")
    }

    @Test func theContainersLenientModeLeavesPasscodesOffWhenTheKeyIsAbsent() throws {
        let yaml = """
            secrets: { whenMissing: notConfigured }
            otp:
              secret: "${HERALD_OTP_SECRET}"
              secretFile: "/run/secrets/otp-secret-absent"
            """
        #expect(try load(yaml).secret("otp.secret") == nil)
        let given = try load(yaml, environment: ["HERALD_OTP_SECRET": "otp-env-SECRET-0123456789abcdef"])
        #expect(given.secret("otp.secret") == "otp-env-SECRET-0123456789abcdef")
        #expect(given.notConfigured.isEmpty)
    }

    @Test func theDaemonBuildsThePasscodeServiceFromTheSection() async throws {
        let yaml = """
            server: { listen: "127.0.0.1:0" }
            otp: { secretFile: "otp-secret", perDestinationPerHour: 2, minIntervalSeconds: 10 }
            """
        let loaded = try load(yaml)
        let store = try await Daemon.openStore(loaded)
        let components = try Daemon.buildServices(
            loaded: loaded,
            configPath: "/dev/null",
            store: store,
            output: .capture()
        )
        let otp = try #require(components.api?.otp)
        #expect(otp.limits == OTPIssueLimits(perDestinationPerHour: 2, minInterval: 10))
        let off = try Daemon.buildServices(
            loaded: try load("server: { listen: \"127.0.0.1:0\" }\n"),
            configPath: "/dev/null",
            store: store,
            output: .capture()
        )
        #expect(off.api != nil && off.api?.otp == nil)
        try await store.close()
    }
}
