import Foundation
import GRDB
import HTTPTypes
import HeraldAPI
import HeraldCore
import HeraldSQLite
import HummingbirdTesting
import Testing

@Suite struct StoreUnavailableTests {
    @Test func lockedStoreAnswers503AndLosesNothingAcknowledged() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-api-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("herald.db").path
        let store = try SQLiteStore(path: path, busyTimeout: 0.05)
        try await store.migrate()
        let harness = try await APIHarness(store: store, storeDirectory: directory)
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let intruder = try DatabaseQueue(path: path, configuration: configuration)
        try await harness.test { client in
            let before = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: EventRouteTests.event(id: "kept")
            )
            #expect(before.status == .accepted)
            try await intruder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE TRANSACTION") }
            let refused = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: EventRouteTests.event(id: "refused")
            )
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorCode == "STORE_UNAVAILABLE")
            #expect(refused.headers[.retryAfter] == "1")
            try await intruder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            let after = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: EventRouteTests.event(id: "refused")
            )
            #expect(after.status == .accepted)
            #expect(try after.data["accepted"] == .number(1))
        }
        #expect(try await store.eventRecord(id: "kept") != nil)
        #expect(try await store.eventRecord(id: "refused") != nil)
        try await store.close()
    }
}
