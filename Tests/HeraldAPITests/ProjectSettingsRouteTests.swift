import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HummingbirdTesting
import Testing

@Suite struct ProjectSettingsRouteTests {
    @Test func settingsContract() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            try await DirectoryRouteTests.seed(harness, client)
            let uri = "/api/v1/projects/p1/settings/notifications"
            let initial = try await harness.call(client, .get, uri, token: APIHarness.writerToken)
            #expect(try initial.data["otpCodeLength"] == .number(5))
            #expect(try initial.data["otpTtlSeconds"] == .number(120))
            #expect(try initial.data["smsNotifierData"] == .null)

            let set = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.writerToken,
                json: #"{"smsNotifier":5,"emailNotifier":1}"#
            )
            #expect(try set.data["smsNotifierData"] == .object(["id": .number(5), "name": .string("twilio")]))
            #expect(try set.data["emailNotifierData"] == .object(["id": .number(1), "name": .string("smtp-main")]))

            let partial = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.writerToken,
                json: #"{"otpCodeLength":8}"#
            )
            #expect(try partial.data["smsNotifier"] == .number(5))
            #expect(try partial.data["otpCodeLength"] == .number(8))

            let unknown = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.writerToken,
                json: #"{"smsNotifier":99}"#
            )
            #expect(unknown.errorFields == ["smsNotifier"])
            let wrongChannel = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.writerToken,
                json: #"{"smsNotifier":1}"#
            )
            #expect(wrongChannel.errorFields == ["smsNotifier"])
            let ranges = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.writerToken,
                json: #"{"otpCodeLength":3,"otpTtlSeconds":3601}"#
            )
            #expect(Set(ranges.errorFields) == ["otpCodeLength", "otpTtlSeconds"])
            let types = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.writerToken,
                json: #"{"otpCodeLength":"8","color":1}"#
            )
            #expect(Set(types.errorFields) == ["otpCodeLength", "color"])

            let cleared = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.writerToken,
                json: #"{"smsNotifier":null}"#
            )
            #expect(try cleared.data["smsNotifierData"] == .null)
            #expect(try cleared.data["emailNotifier"] == .number(1))
            #expect(try cleared.data["otpCodeLength"] == .number(8))

            let forbidden = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.readerToken,
                json: #"{"otpCodeLength":6}"#
            )
            #expect(forbidden.status == .forbidden)
            let admin = try await harness.call(
                client,
                .patch,
                uri,
                token: APIHarness.adminToken,
                json: #"{"otpCodeLength":6}"#
            )
            #expect(admin.status == .ok)
            let missing = try await harness.call(
                client,
                .patch,
                "/api/v1/projects/nope/settings/notifications",
                token: APIHarness.adminToken,
                json: #"{"otpCodeLength":6}"#
            )
            #expect(missing.status == .notFound)
        }
        let stored = try await harness.store.loadDirectory().projects.first?.settings
        #expect(
            stored
                == ProjectNotificationSettings(emailNotifier: 1, smsNotifier: nil, otpCodeLength: 6, otpTtlSeconds: 120)
        )
    }
}
