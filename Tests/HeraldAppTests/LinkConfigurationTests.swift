import Foundation
import HeraldCore
import Testing

@testable import HeraldApp

/// `links.publicURL` and `auth.linkSecret(File)` (SPEC §11.7, §14): both or neither, strict like the rest of the
/// file, and the secret never in an error.
@Suite("Configuration of Herald's own pages")
struct LinkConfigurationTests {
    static let secret = "link-SECRET-0123456789abcdef0123456789"

    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herald-links-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try? (LinkConfigurationTests.secret + "\n").write(
            to: url.appendingPathComponent("link-secret"),
            atomically: true,
            encoding: .utf8
        )
        try? "short\n".write(to: url.appendingPathComponent("short-secret"), atomically: true, encoding: .utf8)
        return url
    }()

    func yaml(publicURL: String?, auth: String?, lenient: Bool = false) -> String {
        var text = "store: { sqlite: { path: \"h.db\" } }\n"
        if lenient { text += "secrets: { whenMissing: notConfigured }\n" }
        if let publicURL { text += "links:\n  publicURL: \"\(publicURL)\"\n" }
        if let auth { text += "auth:\n\(auth)" }
        return text
    }

    func problems(_ yaml: String) -> [FieldError] {
        do {
            _ = try ConfigurationLoader.load(yaml: yaml, baseDirectory: directory, environment: [:])
            return []
        } catch {
            return error.problems
        }
    }

    @Test(arguments: [
        "https://herald.example.com", "https://example.com/herald/", "http://127.0.0.1:8425",
        "http://localhost:8425", "http://[::1]:8425",
    ])
    func bothSetTurnThePagesOn(publicURL: String) throws {
        let loaded = try ConfigurationLoader.load(
            yaml: yaml(publicURL: publicURL, auth: "  linkSecretFile: \"link-secret\"\n"),
            baseDirectory: directory,
            environment: [:]
        )
        let signer = try #require(Daemon.linkSigner(loaded))
        #expect(signer.publicURL == (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL))
        let url = signer.unsubscribeURL(user: "u1", key: "assigned", channel: .email, now: Date())
        #expect(url.hasPrefix(signer.publicURL + "/u/"))
        #expect(!url.contains(Self.secret))
    }

    @Test func theSecretMayComeFromTheEnvironment() throws {
        let loaded = try ConfigurationLoader.load(
            yaml: yaml(publicURL: "https://h.example", auth: "  linkSecret: \"${LINK}\"\n"),
            baseDirectory: directory,
            environment: ["LINK": Self.secret]
        )
        #expect(Daemon.linkSigner(loaded) != nil)
        #expect(loaded.secretValues.contains(Self.secret), "scrubbed from log lines like every secret")
    }

    @Test func neitherSetLeavesThePagesOff() throws {
        let loaded = try ConfigurationLoader.load(
            yaml: yaml(publicURL: nil, auth: nil),
            baseDirectory: directory,
            environment: [:]
        )
        #expect(Daemon.linkSigner(loaded) == nil)
    }

    @Test(
        arguments: [
            (nil, "  linkSecretFile: \"link-secret\"\n", "links.publicURL"),
            ("https://h.example", nil, "auth.linkSecretFile"),
            ("http://herald.example.com", "  linkSecretFile: \"link-secret\"\n", "links.publicURL"),
            ("ftp://h.example", "  linkSecretFile: \"link-secret\"\n", "links.publicURL"),
            ("https://h.example/?a=1", "  linkSecretFile: \"link-secret\"\n", "links.publicURL"),
            ("https://h.example", "  linkSecretFile: \"missing-file\"\n", "auth.linkSecretFile"),
            ("https://h.example", "  linkSecretFile: \"short-secret\"\n", "auth.linkSecretFile"),
            ("https://h.example", "  linkSecret: \"\(LinkConfigurationTests.secret)\"\n", "auth.linkSecret"),
            ("https://h.example", "  linkSecret: \"${UNSET_LINK}\"\n", "auth.linkSecret"),
            ("https://h.example", "  linkSecretFile: \"link-secret\"\n  linkSecret: \"${X}\"\n", "auth.linkSecret"),
            ("https://h.example", "  linkSecretFiel: \"link-secret\"\n", "auth.linkSecretFiel"),
        ] as [(String?, String?, String)]
    )
    func refusesEachMistakeNamingItsField(publicURL: String?, auth: String?, field: String) {
        let found = problems(yaml(publicURL: publicURL, auth: auth))
        #expect(found.contains { $0.field == field }, "\(found)")
        #expect(!found.contains { $0.message.contains(Self.secret) || $0.field.contains(Self.secret) })
        #expect(found.allSatisfy { !"\($0.field): \($0.message)".contains("\n") }, "one printable line each")
    }

    @Test func theContainerModeTurnsThePagesOffWhenTheSecretIsAbsent() throws {
        let loaded = try ConfigurationLoader.load(
            yaml: yaml(
                publicURL: "http://localhost:8425",
                auth: "  linkSecret: \"${HERALD_LINK_SECRET}\"\n  linkSecretFile: \"absent\"\n",
                lenient: true
            ),
            baseDirectory: directory,
            environment: [:]
        )
        #expect(Daemon.linkSigner(loaded) == nil)
        #expect(loaded.notConfigured.isEmpty, "no notifier is concerned")
        let given = try ConfigurationLoader.load(
            yaml: yaml(
                publicURL: "http://localhost:8425",
                auth: "  linkSecret: \"${HERALD_LINK_SECRET}\"\n  linkSecretFile: \"absent\"\n",
                lenient: true
            ),
            baseDirectory: directory,
            environment: ["HERALD_LINK_SECRET": Self.secret]
        )
        #expect(Daemon.linkSigner(given) != nil)
    }

    @Test func theContainerConfigurationLoadsWithAndWithoutTheSecret() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/herald.container.yaml"), encoding: .utf8)
        let off = try ConfigurationLoader.load(yaml: text, baseDirectory: directory, environment: [:])
        #expect(Daemon.linkSigner(off) == nil)
        let on = try ConfigurationLoader.load(
            yaml: text,
            baseDirectory: directory,
            environment: ["HERALD_LINK_SECRET": Self.secret]
        )
        #expect(Daemon.linkSigner(on)?.publicURL == "http://localhost:8425")
    }
}
