import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import Hummingbird
import HummingbirdTesting
import Testing

/// Herald's own pages mounted on the API's router (the same `buildRouter` as `herald serve`): answers match
/// `openapi.yaml`, the page writes are the preference API's, and without a link secret the pages are off.
@Suite("User pages on the API router")
struct UserPageAPITests {
    static let signer = LinkSigner(
        secret: Data("api-link-test-secret-0123456789abcdef".utf8),
        publicURL: "https://h.test"
    )

    static func harness(signer: LinkSigner? = UserPageAPITests.signer) async throws -> APIHarness {
        let harness = try await APIHarness(linkSigner: signer)
        let json = """
            {"organizations": [{"id": "acme", "slug": "acme", "name": "Acme"}],
             "users": [{"id": "u1", "organization": "acme", "name": "Ann", "email": "ann@example.com"}]}
            """
        try await harness.store.importDirectory(
            try DirectoryDocument.parse(Data(json.utf8), catalog: Catalog()),
            now: harness.clock.now()
        )
        return harness
    }

    /// A form request, its answer checked against the document.
    static func form(
        _ harness: APIHarness,
        _ client: any TestClientProtocol,
        _ method: HTTPRequest.Method,
        _ uri: String,
        _ body: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> TestResponse {
        let response = try await client.executeRequest(
            uri: uri,
            method: method,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: body.map { ByteBuffer(string: $0) }
        )
        let path = String(uri.split(separator: "?", maxSplits: 1)[0])
        let template = try #require(harness.routes.template(for: path, method: method), sourceLocation: sourceLocation)
        let problems = OpenAPIChecker.shared.problems(response, method: method, template: template)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        #expect(response.headers[.xRequestId] != nil, sourceLocation: sourceLocation)
        return response
    }

    static func path(_ url: String) -> String { String(url.dropFirst("https://h.test".count)) }

    @Test func unsubscribeThenReadTheMatrixBackThroughTheAPI() async throws {
        let harness = try await Self.harness()
        let now = harness.clock.now()
        let unsubscribe = Self.path(Self.signer.unsubscribeURL(user: "u1", key: "assigned", channel: .email, now: now))
        let jwt = try await harness.userJWT("u1")
        try await harness.test { client in
            let page = try await Self.form(harness, client, .get, unsubscribe)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let done = try await Self.form(harness, client, .post, unsubscribe, "List-Unsubscribe=One-Click")
            #expect(done.status == .ok)
            #expect(String(buffer: done.body).contains("href=\"../preferences?token="))
            let matrix = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: jwt)
            let rows = try JSONDecoder().decode(MatrixEnvelope.self, from: Data(matrix.body.readableBytesView)).data
            let assigned = try #require(rows.first { $0.eventKey == "assigned" })
            #expect(!assigned.email && assigned.slack && assigned.customized)
        }
    }

    @Test func thePreferenceCenterSavesAndResetsLikeThePreferenceAPI() async throws {
        let harness = try await Self.harness()
        let center = Self.path(Self.signer.preferencesURL(user: "u1", now: harness.clock.now()))
        let jwt = try await harness.userJWT("u1")
        try await harness.test { client in
            #expect(try await Self.form(harness, client, .get, center).status == .ok)
            let saved = try await Self.form(harness, client, .post, center, "key=note&email=on&action=save")
            #expect(saved.status == .seeOther)
            let location = try #require(saved.headers[.location])
            #expect(location.hasPrefix("preferences?token="), "relative to the page: \(location)")
            #expect(try await Self.form(harness, client, .get, "/" + location.prefix { $0 != "#" }).status == .ok)
            let api = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: jwt)
            let rows = try JSONDecoder().decode(MatrixEnvelope.self, from: Data(api.body.readableBytesView)).data
            let note = try #require(rows.first { $0.eventKey == "note" })
            #expect(note.email && !note.slack && !note.msteams && !note.sms && !note.webhook && note.customized)
            let reset = try await Self.form(harness, client, .post, center, "key=note&action=reset")
            #expect(reset.status == .seeOther)
            let after = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: jwt)
            let back = try JSONDecoder().decode(MatrixEnvelope.self, from: Data(after.body.readableBytesView)).data
            #expect(back.first { $0.eventKey == "note" }?.customized == false)
            #expect(try await Self.form(harness, client, .post, center, "key=nope&action=save").status == .badRequest)
        }
    }

    @Test func aUserNoLongerInTheDirectoryGetsNoRow() async throws {
        let harness = try await Self.harness()
        let now = harness.clock.now()
        let gone = Self.path(Self.signer.unsubscribeURL(user: "ghost", key: "assigned", channel: .email, now: now))
        let center = Self.path(Self.signer.preferencesURL(user: "ghost", now: now))
        try await harness.test { client in
            let unsubscribed = try await Self.form(harness, client, .post, gone, "List-Unsubscribe=One-Click")
            #expect(unsubscribed.status == .notFound)
            let saved = try await Self.form(harness, client, .post, center, "key=note&action=save")
            #expect(saved.status == .notFound)
        }
        #expect(try await harness.store.preferenceRows(of: .user("ghost")).isEmpty)
    }

    @Test func withoutALinkSecretThePagesAreOff() async throws {
        let harness = try await Self.harness(signer: nil)
        let now = harness.clock.now()
        let unsubscribe = Self.path(Self.signer.unsubscribeURL(user: "u1", key: "assigned", channel: .email, now: now))
        let center = Self.path(Self.signer.preferencesURL(user: "u1", now: now))
        try await harness.test { client in
            for (method, uri, body) in [
                (HTTPRequest.Method.get, unsubscribe, nil), (.post, unsubscribe, "List-Unsubscribe=One-Click"),
                (.get, center, nil), (.post, center, "key=note&action=save"),
            ] {
                let response = try await Self.form(harness, client, method, uri, body)
                #expect(response.status == .notFound, "\(method) \(uri)")
                #expect(String(buffer: response.body).contains("not enabled"))
            }
        }
        #expect(try await harness.store.preferenceRows(of: .user("u1")).isEmpty)
    }

    struct MatrixEnvelope: Decodable {
        var data: [PreferenceMatrixRow]
    }
}
