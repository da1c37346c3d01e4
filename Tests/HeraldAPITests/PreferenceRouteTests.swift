import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HummingbirdTesting
import Testing

@Suite struct PreferenceRouteTests {
    @Test func matrixCustomizedPatchResetAndRunTimeKey() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await DirectoryRouteTests.seed(harness, client)
            let jwt = try await harness.userJWT("u1")
            let matrix = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: jwt)
            let rows = try #require(try matrix.data.arrayValue)
            let keys = rows.compactMap { $0["eventKey"]?.stringValue }
            #expect(keys == keys.sorted())
            #expect(keys.contains("assigned") && keys.contains("payout_processed"))
            let assigned = try #require(rows.first { $0["eventKey"] == .string("assigned") })
            #expect(assigned["email"] == .bool(true) && assigned["sms"] == .bool(false))
            #expect(assigned["customized"] == .bool(false))

            let patched = try await harness.call(
                client,
                .patch,
                "/api/v1/notifications/preferences/assigned",
                token: jwt,
                json: #"{"email":false}"#
            )
            #expect(try patched.data["email"] == .bool(false))
            #expect(try patched.data["slack"] == .bool(true))
            #expect(try patched.data["customized"] == .bool(true))
            let after = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: jwt)
            let row = try #require(try after.data.arrayValue?.first { $0["eventKey"] == .string("assigned") })
            #expect(row["customized"] == .bool(true) && row["email"] == .bool(false))

            let reset = try await harness.call(
                client,
                .delete,
                "/api/v1/notifications/preferences/assigned",
                token: jwt
            )
            #expect(try reset.data["customized"] == .bool(false))
            #expect(try reset.data["email"] == .bool(true))

            let badKey = try await harness.call(
                client,
                .patch,
                "/api/v1/notifications/preferences/nope",
                token: jwt,
                json: #"{"email":false}"#
            )
            #expect(badKey.errorCode == "UNKNOWN_EVENT_KEY")
            let badBody = try await harness.call(
                client,
                .patch,
                "/api/v1/notifications/preferences/assigned",
                token: jwt,
                json: #"{"email":"off","pagerduty":true}"#
            )
            #expect(Set(badBody.errorFields) == ["email", "pagerduty"])

            let added = try await harness.call(
                client,
                .put,
                "/api/v1/admin/catalog/new_message_creator",
                token: APIHarness.adminToken,
                json: #"{"type":"messages","description":"A new message","defaults":{"email":true,"sms":false}}"#
            )
            #expect(added.status == .created)
            let withKey = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: jwt)
            let newRow = try #require(
                try withKey.data.arrayValue?.first { $0["eventKey"] == .string("new_message_creator") }
            )
            #expect(newRow["email"] == .bool(true) && newRow["customized"] == .bool(false))
        }
        #expect(try await harness.store.storedCatalogEntries().map(\.key) == ["new_message_creator"])
    }

    @Test func tokenNamesTheUserAndJWTReachesOnlyItself() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await DirectoryRouteTests.seed(harness, client)
            let jwt = try await harness.userJWT("u1")
            let other = try await harness.call(client, .get, "/api/v1/notifications/preferences?user=u2", token: jwt)
            #expect(other.status == .forbidden)
            let otherOptions = try await harness.call(client, .get, "/api/v1/users/u2/notification-options", token: jwt)
            #expect(otherOptions.status == .forbidden)
            let own = try await harness.call(client, .get, "/api/v1/users/me/notification-options", token: jwt)
            #expect(own.status == .ok)
            let token = try await harness.call(
                client,
                .get,
                "/api/v1/notifications/preferences?user=u2",
                token: APIHarness.readerToken
            )
            #expect(token.status == .ok)
            let tokenWithoutUser = try await harness.call(
                client,
                .get,
                "/api/v1/notifications/preferences",
                token: APIHarness.readerToken
            )
            #expect(tokenWithoutUser.errorFields == ["user"])
            let ghost = try await harness.userJWT("ghost")
            let ghostPatch = try await harness.call(
                client,
                .patch,
                "/api/v1/notifications/preferences/assigned",
                token: ghost,
                json: #"{"email":false}"#
            )
            #expect(ghostPatch.status == .notFound)
            let expired = try await harness.userJWT("u1", expiresIn: -120)
            let refused = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: expired)
            #expect(refused.status == .unauthorized)
        }
    }

    @Test func optionRowsContract() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await DirectoryRouteTests.seed(harness, client)
            let jwt = try await harness.userJWT("u1")
            let invalid = try await harness.call(
                client,
                .get,
                "/api/v1/users/me/notification-options?type=bogus",
                token: jwt
            )
            #expect(invalid.status == .badRequest)
            #expect(invalid.errorCode == "INVALID_TYPE")
            let details = try invalid.error["details"]
            #expect(details == .array([.object(["field": .string("type"), "message": .string("Invalid type")])]))

            let put = try await harness.call(
                client,
                .put,
                "/api/v1/users/me/notification-options",
                token: jwt,
                json: #"{"type":"workflow","scopeType":"project","scopeIdentifier":"p1","value":"subscribeOnly"}"#
            )
            #expect(put.status == .created)
            let optionId = try #require(try put.data["id"]?.stringValue)
            #expect(try put.data["value"] == .string("subscribeOnly"))
            let wrongValue = try await harness.call(
                client,
                .put,
                "/api/v1/users/me/notification-options",
                token: jwt,
                json: #"{"type":"deploy","scopeType":"user","scopeIdentifier":"u1","value":"subscribeOnly"}"#
            )
            #expect(wrongValue.status == .badRequest)
            #expect(wrongValue.errorFields == ["value"])
            let badScope = try await harness.call(
                client,
                .put,
                "/api/v1/users/me/notification-options",
                token: jwt,
                json: #"{"type":"workflow","scopeType":"galaxy","scopeIdentifier":"x","value":"always"}"#
            )
            #expect(badScope.errorFields == ["scopeType"])
            let listed = try await harness.call(
                client,
                .get,
                "/api/v1/users/u1/notification-options?type=workflow",
                token: jwt
            )
            #expect(try listed.data.arrayValue?.map { $0["id"] } == [.string(optionId)])

            let providers = try await harness.call(
                client,
                .put,
                "/api/v1/users/me/notification-providers",
                token: jwt,
                json: #"{"type":"workflow","scopeType":"user","scopeIdentifier":"u1","providers":["email","slack"]}"#
            )
            #expect(providers.status == .created)
            let rows = try await harness.call(client, .get, "/api/v1/users/me/notification-providers", token: jwt)
            let on = try rows.data.arrayValue?.filter { $0["value"] == .string("always") }.compactMap {
                $0["provider"]?.stringValue
            }
            #expect(Set(on ?? []) == ["email", "slack"])

            let otherUser = try await harness.userJWT("u2")
            let notMine = try await harness.call(
                client,
                .delete,
                "/api/v1/users/me/notification-options/\(optionId)",
                token: otherUser
            )
            #expect(notMine.status == .notFound)
            let deleted = try await harness.call(
                client,
                .delete,
                "/api/v1/users/me/notification-options/\(optionId)",
                token: jwt
            )
            #expect(deleted.status == .noContent)
            let defaults = try await harness.call(client, .get, "/api/v1/notification-defaults", token: jwt)
            #expect(try defaults.data["typeDefaults"]?["workflow"] == .string("subscribeOnly"))
        }
    }

    @Test func sixtyFirstRequestInAMinuteIsRateLimited() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let jwt = try await harness.userJWT("u1")
            for index in 1...60 {
                let response = try await client.send(.get, "/api/v1/notifications/preferences", token: jwt)
                #expect(response.status == .ok, "request \(index)")
                #expect(response.headers[HTTPField.Name("RateLimit-Remaining")!] == String(60 - index))
            }
            harness.clock.advance(by: 20)
            let limited = try await harness.call(client, .get, "/api/v1/notifications/preferences", token: jwt)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "RATE_LIMITED")
            #expect(limited.headers[.retryAfter] == "40")
            #expect(limited.headers[HTTPField.Name("RateLimit-Limit")!] == "60")
            // Another principal has its own budget.
            let other = try await client.send(
                .get,
                "/api/v1/notifications/preferences?user=u1",
                token: APIHarness.readerToken
            )
            #expect(other.status == .ok)
            harness.clock.advance(by: 40)
            let later = try await client.send(.get, "/api/v1/notifications/preferences", token: jwt)
            #expect(later.status == .ok)
        }
    }
}
