import Foundation
import HeraldCore
import HeraldSQLite
import Testing

@Suite("Preference operations over a real SQLite store")
struct PreferenceOperationsTests {
    let catalog = Catalog(custom: [
        CatalogEntry(
            key: "payout_processed",
            type: NotificationType("payments"),
            description: "Payout",
            defaults: [.email: true, .sms: true]
        )
    ])

    func makeStore() async throws -> SQLiteStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-prefs-\(UUID().uuidString)/h.db"
        )
        let store = try SQLiteStore(path: path.path)
        try await store.migrate()
        try await store.importDirectory(
            DirectoryDocument(
                organizations: [Organization(id: "acme", slug: "acme", name: "Acme")],
                users: [User(id: "u1", organization: "acme", name: "Ann", email: "ann@acme.test", emailVerified: true)]
            ),
            now: Date()
        )
        return store
    }

    @Test func matrixReadsDefaultsThenOverridesThenResets() async throws {
        let store = try await makeStore()
        let initial = try await store.preferenceMatrix(user: "u1", catalog: catalog)
        #expect(initial.map(\.eventKey) == catalog.allEntries.map(\.key))
        let assigned = try #require(initial.first { $0.eventKey == "assigned" })
        #expect(assigned.email && assigned.slack && !assigned.sms && !assigned.customized)

        // Mute assigned email, keep note email.
        let muted = try await store.savePreferenceOverride(
            user: "u1",
            key: "assigned",
            channels: [.email: false],
            catalog: catalog
        )
        #expect(!muted.email && muted.slack && muted.customized)
        let after = try await store.preferenceMatrix(user: "u1", catalog: catalog)
        #expect(after.first { $0.eventKey == "note" }?.email == true)
        #expect(after.first { $0.eventKey == "assigned" }?.email == false)

        let reset = try await store.resetPreferences(user: "u1", key: "assigned", catalog: catalog)
        #expect(reset.email && !reset.customized)
        #expect(try await store.preferenceRows(of: .user("u1")).isEmpty)
        try await store.close()
    }

    @Test func unknownKeysAndNonPersonalChannelsAreRefusedAndNothingIsWritten() async throws {
        let store = try await makeStore()
        await #expect(throws: ValidationFailure.self) {
            _ = try await store.savePreferenceOverride(
                user: "u1",
                key: "nope",
                channels: [.email: false],
                catalog: catalog
            )
        }
        await #expect(throws: ValidationFailure.self) {
            _ = try await store.savePreferenceOverride(
                user: "u1",
                key: "assigned",
                channels: [.email: false, .pagerduty: true],
                catalog: catalog
            )
        }
        #expect(try await store.preferenceRows(of: .user("u1")).isEmpty)
        try await store.close()
    }

    @Test func optionRowsAreUpsertedAndOnlyTheirOwnerDeletesThem() async throws {
        let store = try await makeStore()
        let row = try PreferenceOptions.optionRow(
            owner: .user("u1"),
            type: "workflow",
            scopeType: "user",
            scopeIdentifier: "u1",
            value: "always",
            catalog: catalog
        )
        try await store.upsertPreferenceRows([row])
        #expect(try await store.preferenceRows(of: .user("u1")) == [row])
        await #expect(throws: StoreError.self) {
            try await store.deletePreferenceRow(row.identity, of: .user("someone-else"))
        }
        try await store.deletePreferenceRow(row.identity, of: .user("u1"))
        #expect(try await store.preferenceRows(of: .user("u1")).isEmpty)
        try await store.close()
    }
}
