import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HummingbirdTesting
import Testing

@Suite struct DirectoryRouteTests {
    /// An organization, two users, a team and a project, written through the API.
    static func seed(_ harness: APIHarness, _ client: any TestClientProtocol) async throws {
        let token = APIHarness.writerToken
        let writes: [(String, String)] = [
            ("/api/v1/organizations/acme", #"{"slug":"acme","name":"Acme Inc."}"#),
            (
                "/api/v1/users/u1",
                #"{"organization":"acme","name":"Ann","email":"ann@acme.test","emailVerified":true,"phone":"+15550000001"}"#
            ),
            ("/api/v1/users/u2", #"{"organization":"acme","name":"Bo","email":"bo@acme.test"}"#),
            ("/api/v1/teams/t1", #"{"organization":"acme","slug":"core","members":["u1","u2"]}"#),
            ("/api/v1/projects/p1", #"{"organization":"acme","slug":"backend","name":"Backend","teams":["t1"]}"#),
        ]
        for (uri, body) in writes {
            let response = try await harness.call(client, .put, uri, token: token, json: body)
            #expect(response.status == .created, "\(uri): \(String(buffer: response.body))")
        }
    }

    @Test func upsertReadListAndReplace() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await Self.seed(harness, client)
            let user = try await harness.call(client, .get, "/api/v1/users/u1", token: APIHarness.readerToken)
            #expect(try user.data["email"] == .string("ann@acme.test"))
            let replaced = try await harness.call(
                client,
                .put,
                "/api/v1/users/u2",
                token: APIHarness.writerToken,
                json: #"{"id":"u2","organization":"acme","name":"Bo Chen"}"#
            )
            #expect(replaced.status == .ok)
            #expect(try replaced.data["name"] == .string("Bo Chen"))
            let page = try await harness.call(client, .get, "/api/v1/users?limit=1", token: APIHarness.readerToken)
            #expect(try page.data["items"]?.arrayValue?.count == 1)
            let cursor = try #require(try page.data["nextCursor"]?.stringValue)
            let next = try await harness.call(
                client,
                .get,
                "/api/v1/users?limit=1&cursor=\(cursor)",
                token: APIHarness.readerToken
            )
            #expect(try next.data["items"]?[0]?["id"] == .string("u2"))
            #expect(try next.data["nextCursor"] == .null)
            let missing = try await harness.call(client, .get, "/api/v1/teams/nope", token: APIHarness.readerToken)
            #expect(missing.status == .notFound)
        }
        #expect(try await harness.store.loadDirectory().users.count == 2)
    }

    /// Path ids are identifiers (SPEC §3.1), compared byte for byte: a path spelled with a lookalike that Swift's
    /// `String ==` calls equal to a stored id (U+212A KELVIN SIGN for `K`) names no record, and neither reads,
    /// replaces nor deletes (nor drops from its teams) the record it resembles.
    @Test(arguments: ["%E2%84%AA1", "\u{212A}1"])
    func lookalikePathIdsNameNoRecord(_ path: String) async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await Self.seed(harness, client)
            let writer = APIHarness.writerToken
            let created = try await harness.call(
                client,
                .put,
                "/api/v1/users/K1",
                token: writer,
                json: #"{"organization":"acme","name":"Kay","email":"kay@acme.test"}"#
            )
            #expect(created.status == .created)
            let team = try await harness.call(
                client,
                .put,
                "/api/v1/teams/t1",
                token: writer,
                json: #"{"organization":"acme","slug":"core","members":["u1","u2","K1"]}"#
            )
            #expect(team.status == .ok)
            let read = try await harness.call(client, .get, "/api/v1/users/\(path)", token: APIHarness.readerToken)
            #expect(read.status == .notFound, "\(String(buffer: read.body))")
            let deleted = try await harness.call(client, .delete, "/api/v1/users/\(path)", token: writer)
            #expect(deleted.status == .notFound, "\(String(buffer: deleted.body))")
            let replaced = try await harness.call(
                client,
                .put,
                "/api/v1/users/\(path)",
                token: writer,
                json: #"{"organization":"acme","name":"Impostor"}"#
            )
            #expect(replaced.status == .badRequest, "\(String(buffer: replaced.body))")
        }
        let directory = try await harness.store.loadDirectory()
        let kay = try #require(directory.users.first { $0.id.utf8.elementsEqual("K1".utf8) })
        #expect(kay.name == "Kay")
        #expect(directory.users.count == 3)
        #expect(directory.teams.first?.members.contains { $0.utf8.elementsEqual("K1".utf8) } == true)
    }

    @Test func validationIsTheImportValidation() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await Self.seed(harness, client)
            let badPhone = try await harness.call(
                client,
                .put,
                "/api/v1/users/u3",
                token: APIHarness.writerToken,
                json: #"{"organization":"acme","phone":"555-1234"}"#
            )
            #expect(badPhone.status == .badRequest)
            #expect(badPhone.errorFields == ["phone"], "\(badPhone.errorFields)")
            let unknownOrg = try await harness.call(
                client,
                .put,
                "/api/v1/teams/t2",
                token: APIHarness.writerToken,
                json: #"{"organization":"nowhere","slug":"x","members":["ghost"]}"#
            )
            #expect(unknownOrg.status == .badRequest)
            #expect(unknownOrg.errorFields.contains("organization"), "\(unknownOrg.errorFields)")
            let wrongId = try await harness.call(
                client,
                .put,
                "/api/v1/users/u3",
                token: APIHarness.writerToken,
                json: #"{"id":"u4","organization":"acme"}"#
            )
            #expect(wrongId.errorFields == ["id"])
        }
        #expect(try await harness.store.loadDirectory().teams.map(\.id) == ["t1"])
    }

    @Test func deleteInUseIs409AndUserDeletionCascades() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await Self.seed(harness, client)
            let inUse = try await harness.call(client, .delete, "/api/v1/teams/t1", token: APIHarness.writerToken)
            #expect(inUse.status == .conflict)
            #expect(inUse.errorCode == "CONFLICT")
            #expect(inUse.errorFields.contains { $0.hasPrefix("projects[0]") }, "\(inUse.errorFields)")
            let orgInUse = try await harness.call(
                client,
                .delete,
                "/api/v1/organizations/acme",
                token: APIHarness.writerToken
            )
            #expect(orgInUse.status == .conflict)

            let subscription = try await harness.call(
                client,
                .put,
                "/api/v1/issues/9001/subscriptions/u1",
                token: APIHarness.writerToken,
                json: #"{"project":"p1","active":true,"reason":"bookmark"}"#
            )
            #expect(subscription.status == .created)
            try await harness.store.replacePreferences(
                removing: [],
                upserting: [
                    PreferenceRow(owner: .user("u1"), scope: .user, scopeId: "u1", subject: "workflow", value: .never)
                ]
            )
            let deleted = try await harness.call(client, .delete, "/api/v1/users/u1", token: APIHarness.writerToken)
            #expect(deleted.status == .noContent)
            let again = try await harness.call(client, .delete, "/api/v1/users/u1", token: APIHarness.writerToken)
            #expect(again.status == .notFound)
        }
        let directory = try await harness.store.loadDirectory()
        #expect(directory.users.map(\.id) == ["u2"])
        #expect(directory.teams.first?.members == ["u2"])
        #expect(directory.subscriptions.isEmpty)
        #expect(directory.preferences.isEmpty)
    }

    @Test func subscriptionsPutAndDelete() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await Self.seed(harness, client)
            let bad = try await harness.call(
                client,
                .put,
                "/api/v1/issues/9001/subscriptions/u1",
                token: APIHarness.writerToken,
                json: #"{"project":"p1","active":"yes","reason":"bookmark","extra":1}"#
            )
            #expect(Set(bad.errorFields) == ["active", "extra"])
            let unknownReason = try await harness.call(
                client,
                .put,
                "/api/v1/issues/9001/subscriptions/u1",
                token: APIHarness.writerToken,
                json: #"{"project":"p1","active":false,"reason":"because"}"#
            )
            #expect(unknownReason.status == .badRequest)
            let put = try await harness.call(
                client,
                .put,
                "/api/v1/issues/9001/subscriptions/u1",
                token: APIHarness.writerToken,
                json: #"{"project":"p1","active":false,"reason":"bookmark"}"#
            )
            #expect(try put.data["active"] == .bool(false))
            let noProject = try await harness.call(
                client,
                .delete,
                "/api/v1/issues/9001/subscriptions/u1",
                token: APIHarness.writerToken
            )
            #expect(noProject.errorFields == ["project"])
            let deleted = try await harness.call(
                client,
                .delete,
                "/api/v1/issues/9001/subscriptions/u1?project=p1",
                token: APIHarness.writerToken
            )
            #expect(deleted.status == .noContent)
        }
        #expect(try await harness.store.loadDirectory().subscriptions.isEmpty)
    }

    @Test func directoryNeedsItsScopes() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let read = try await harness.call(
                client,
                .put,
                "/api/v1/organizations/x",
                token: APIHarness.readerToken,
                json: "{}"
            )
            #expect(read.status == .forbidden)
            let none = try await harness.call(client, .get, "/api/v1/organizations")
            #expect(none.status == .unauthorized)
        }
    }
}
