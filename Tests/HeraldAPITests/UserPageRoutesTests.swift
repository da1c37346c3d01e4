import Foundation
import HeraldCore
import HeraldSQLite
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Testing

@testable import HeraldAPI

/// One-click unsubscribe and the preference center over a real SQLite file, on a manual clock.
final class UserPagesHarness: Sendable {
    let clock = ManualClock()
    let store: SQLiteStore
    let directory: URL
    let signer = LinkSigner(secret: Data("link-test-secret".utf8), publicURL: "https://herald.example/")
    let routes: UserPageRoutes

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-pages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        let json = """
            {"organizations": [{"id": "acme", "slug": "acme", "name": "Acme"}],
             "users": [{"id": "u1", "organization": "acme", "name": "Ann", "email": "ann@example.com"}]}
            """
        try await store.importDirectory(
            try DirectoryDocument.parse(Data(json.utf8), catalog: Catalog()),
            now: clock.now()
        )
        routes = UserPageRoutes(store: store, catalog: { Catalog() }, signer: signer, clock: clock)
    }

    func application() -> some ApplicationProtocol {
        let router = Router()
        routes.register(on: router)
        return Application(router: router)
    }

    func close() async throws {
        try await store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    func row(_ key: String) async throws -> PreferenceMatrixRow? {
        try await store.preferenceMatrix(user: "u1", catalog: Catalog()).first { $0.eventKey == key }
    }

    /// The path of `url` (the signer names the public host).
    static func path(_ url: String) -> String {
        String(url.dropFirst("https://herald.example".count))
    }
}

@Suite("One-click unsubscribe and the preference center", .serialized)
struct UserPageRoutesTests {
    static let oneClick = ByteBuffer(string: "List-Unsubscribe=One-Click")
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func aValidLinkConfirmsOnGetAndWritesTheNeverRowOnPost() async throws {
        let harness = try await UserPagesHarness()
        let url = harness.signer.unsubscribeURL(user: "u1", key: "assigned", channel: .email, now: harness.clock.now())
        #expect(url.hasPrefix("https://herald.example/u/"))
        let path = UserPagesHarness.path(url)
        try await harness.application().test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                // Relative: the form posts back to the link's own address, whatever prefix a proxy adds.
                #expect(page.contains("<form method=\"post\" action=\"\(path.dropFirst(3))\">"))
                #expect(page.contains("name=\"List-Unsubscribe\" value=\"One-Click\""))
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
            #expect(try await harness.row("assigned")?.email == true, "a GET changes nothing")
            try await client.execute(uri: path, method: .post, headers: Self.form, body: Self.oneClick) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("no longer receive"))
            }
        }
        let row = try #require(try await harness.row("assigned"))
        #expect(!row.email && row.slack && row.customized, "only email of assigned is off")
        #expect(try await harness.row("note")?.email == true, "other keys keep their settings")
        let stored = try await harness.store.preferenceRows(of: .user("u1"))
        #expect(stored.contains { $0.subject == "assigned" && $0.channel == .email && $0.value == .never })
        try await harness.close()
    }

    @Test func mailProvidersMultipartOneClickIsAcceptedToo() async throws {
        let harness = try await UserPagesHarness()
        let path = UserPagesHarness.path(
            harness.signer.unsubscribeURL(user: "u1", key: "note", channel: .slack, now: harness.clock.now())
        )
        let body = "--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n"
        try await harness.application().test(.router) { client in
            try await client.execute(
                uri: path,
                method: .post,
                headers: [.contentType: "multipart/form-data; boundary=b"],
                body: ByteBuffer(string: body)
            ) { response in #expect(response.status == .ok) }
            try await client.execute(uri: path, method: .post, headers: Self.form, body: ByteBuffer(string: "x=1")) {
                response in #expect(response.status == .badRequest, "no One-Click, no change")
            }
        }
        #expect(try await harness.row("note")?.slack == false)
        try await harness.close()
    }

    static func tampered(_ token: String) -> [String] {
        let parts = token.split(separator: ".").map(String.init)
        let payload = LinkSigner.data(base64URL: parts[0])!
        var claims = try! JSONDecoder().decode(LinkSigner.Claims.self, from: payload)
        claims.user = "u2"
        let altered = LinkSigner.base64URL(try! JSONEncoder().encode(claims)) + "." + parts[1]
        let forger = LinkSigner(secret: Data("another-secret".utf8), publicURL: "https://herald.example")
        let forged = forger.token(claims)
        let flipped = String(token.dropLast()) + (token.last == "A" ? "B" : "A")
        return [altered, forged, flipped, "not-a-token", parts[0], ""]
    }

    @Test func forgedAlteredAndExpiredLinksChangeNothing() async throws {
        let harness = try await UserPagesHarness()
        let url = harness.signer.unsubscribeURL(user: "u1", key: "assigned", channel: .email, now: harness.clock.now())
        let token = String(UserPagesHarness.path(url).dropFirst(3))
        let preferences = harness.signer.preferencesURL(user: "u1", now: harness.clock.now())
        let preferenceToken = String(preferences.split(separator: "=").last!)
        try await harness.application().test(.router) { client in
            for bad in Self.tampered(token) + [preferenceToken] where !bad.isEmpty {
                for method in [HTTPRequest.Method.get, .post] {
                    try await client.execute(uri: "/u/\(bad)", method: method, headers: Self.form, body: Self.oneClick)
                    {
                        response in
                        #expect(response.status == .badRequest, "\(method) \(bad)")
                        #expect(String(buffer: response.body).contains("Nothing was changed"))
                    }
                }
            }
            for bad in Self.tampered(preferenceToken) + [token] {
                try await client.execute(uri: "/preferences?token=\(bad)", method: .get) { response in
                    #expect(response.status == .badRequest, "preferences \(bad)")
                }
                try await client.execute(
                    uri: "/preferences?token=\(bad)",
                    method: .post,
                    headers: Self.form,
                    body: ByteBuffer(string: "key=assigned&action=save")
                ) { response in #expect(response.status == .badRequest) }
            }
        }
        harness.clock.advance(by: harness.signer.lifetime)
        try await harness.application().test(.router) { client in
            try await client.execute(uri: "/u/\(token)", method: .post, headers: Self.form, body: Self.oneClick) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("expired"))
            }
        }
        #expect(try await harness.store.preferenceRows(of: .user("u1")).isEmpty, "nothing was written")
        #expect(try await harness.store.preferenceRows(of: .user("u2")).isEmpty)
        try await harness.close()
    }

    @Test func thePreferenceCenterShowsTheMatrixGroupedAndWritesThroughThePreferenceOperations() async throws {
        let harness = try await UserPagesHarness()
        let url = harness.signer.preferencesURL(user: "u1", now: harness.clock.now())
        let path = UserPagesHarness.path(url)
        try await harness.application().test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                for heading in ["Issue activity", "Alerts", "Deploys", "Account security"] {
                    #expect(page.contains(">\(heading)</h2>"), "\(heading)")
                }
                #expect(
                    page.contains(
                        "<label for=\"key-assigned-email\"><input type=\"checkbox\" id=\"key-assigned-email\""
                    )
                )
                #expect(page.contains("cannot be turned off"), "the critical OTP row is always on")
                #expect(!page.contains("Customized</span>"))
                #expect(!page.contains("<script"), "no JavaScript")
            }
            // Turn Slack off for `note` (email stays checked), then read the page and the matrix back.
            try await client.execute(
                uri: path,
                method: .post,
                headers: Self.form,
                body: ByteBuffer(string: "key=note&email=on&msteams=on&action=save")
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location]?.contains("saved=note") == true)
            }
            let note = try #require(try await harness.row("note"))
            #expect(note.email && !note.slack && note.msteams && !note.sms && note.customized)
            try await client.execute(uri: path + "&saved=note", method: .get) { response in
                let page = String(buffer: response.body)
                #expect(page.contains("Customized</span>"))
                #expect(page.contains("Saved: A comment was added to an issue."))
                #expect(page.contains("id=\"reset-key-note\""))
            }
            try await client.execute(
                uri: path,
                method: .post,
                headers: Self.form,
                body: ByteBuffer(string: "key=note&action=reset")
            ) { response in #expect(response.status == .seeOther) }
            #expect(try await harness.row("note")?.customized == false)
            try await client.execute(
                uri: path,
                method: .post,
                headers: Self.form,
                body: ByteBuffer(string: "key=otp_code&action=save")
            ) { response in #expect(response.status == .badRequest, "critical keys cannot be muted") }
        }
        try await harness.close()
    }
}
