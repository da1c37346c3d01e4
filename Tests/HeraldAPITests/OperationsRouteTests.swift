import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HummingbirdTesting
import Testing

@Suite struct OperationsRouteTests {
    /// Stores an event with three Slack deliveries and one email delivery; the Slack ones end dead.
    static func seedDeadLetters(_ harness: APIHarness) async throws -> [Int64] {
        let now = harness.clock.now()
        let event = Event(id: "evt_ops", key: "payout_processed", organization: "acme", occurredAt: now)
        _ = try await harness.store.enqueue(
            [NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data("{}".utf8))],
            now: now
        )
        _ = try await harness.store.claimEvents(limit: 1, now: now, leaseUntil: now + 30)
        let deliveries = (0..<4).map { index in
            NewDelivery(
                eventId: "evt_ops",
                channel: index == 3 ? .email : .slack,
                notifierId: index == 3 ? 1 : 2,
                recipient: Recipient(kind: .address, address: "C00000000\(index)"),
                reason: .explicit,
                destination: "C00000000\(index)",
                payload: Data("{}".utf8),
                contentType: "application/json"
            )
        }
        try await harness.store.completeFanOut(
            [FanOutResult(eventId: "evt_ops", deliveries: deliveries, suppressions: [])],
            now: now
        )
        let claimed = try await harness.store.claimDeliveries(limit: 10, now: now, leaseUntil: now + 30)
        try await harness.store.apply(
            claimed.filter { $0.channel == .slack }.map {
                .dead(
                    id: $0.id,
                    lease: $0.lease!,
                    attempt: AttemptRecord(
                        startedAt: now,
                        duration: 0.1,
                        result: .permanent,
                        reason: .clientError,
                        status: 404,
                        detail: "channel_not_found"
                    )
                )
            },
            now: now
        )
        return claimed.filter { $0.channel == .slack }.map(\.id).sorted()
    }

    @Test func deliveriesListAndRetry() async throws {
        let harness = try await APIHarness()
        let dead = try await Self.seedDeadLetters(harness)
        try await harness.test { client in
            let list = try await harness.call(
                client,
                .get,
                "/api/v1/deliveries?state=dead&limit=2",
                token: APIHarness.adminToken
            )
            #expect(try list.data["items"]?.arrayValue?.count == 2)
            #expect(try list.data["items"]?[0]?["lastError"]?.stringValue?.contains("channel_not_found") == true)
            let cursor = try #require(try list.data["nextCursor"]?.stringValue)
            let rest = try await harness.call(
                client,
                .get,
                "/api/v1/deliveries?state=dead&cursor=\(cursor)",
                token: APIHarness.adminToken
            )
            #expect(try rest.data["items"]?.arrayValue?.count == 1)
            let badState = try await harness.call(
                client,
                .get,
                "/api/v1/deliveries?state=zombie",
                token: APIHarness.adminToken
            )
            #expect(badState.errorFields == ["state"])

            let one = try await harness.call(
                client,
                .post,
                "/api/v1/deliveries/\(dead[0])/retry",
                token: APIHarness.adminToken
            )
            #expect(try one.data["requeued"] == .number(1))
            let notDead = try await harness.call(
                client,
                .post,
                "/api/v1/deliveries/\(dead[0])/retry",
                token: APIHarness.adminToken
            )
            #expect(notDead.status == .conflict)
            let missing = try await harness.call(
                client,
                .post,
                "/api/v1/deliveries/999999/retry",
                token: APIHarness.adminToken
            )
            #expect(missing.status == .notFound)
            let byChannel = try await harness.call(
                client,
                .post,
                "/api/v1/deliveries/retry",
                token: APIHarness.adminToken,
                json: #"{"filter":{"channel":"slack"}}"#
            )
            #expect(try byChannel.data["requeued"] == .number(2))
            let none = try await harness.call(
                client,
                .post,
                "/api/v1/deliveries/retry",
                token: APIHarness.adminToken,
                json: #"{"filter":{}}"#
            )
            #expect(try none.data["requeued"] == .number(0))
            let bad = try await harness.call(
                client,
                .post,
                "/api/v1/deliveries/retry",
                token: APIHarness.adminToken,
                json: #"{"filter":{"ids":["x"],"color":1}}"#
            )
            #expect(Set(bad.errorFields) == ["filter.ids[0]", "filter.color"])
            let forbidden = try await harness.call(
                client,
                .post,
                "/api/v1/deliveries/retry",
                token: APIHarness.readerToken,
                json: "{}"
            )
            #expect(forbidden.status == .forbidden)
        }
        #expect(try await harness.store.listDeliveries(DeliveryListQuery(state: .dead, limit: 10)).isEmpty)
    }

    @Test func notifiersWithHealthAndTestSend() async throws {
        let harness = try await APIHarness(
            operations: APIOperations(
                notifierHealth: { [2: NotifierHealth(state: "broken", lastError: "404 no_service", destinations: 1)] },
                sendTest: { id, to in NotifierTestResult(outcome: "delivered", receipt: "receipt-\(id)-\(to.count)") }
            )
        )
        try await harness.test { client in
            let list = try await harness.call(client, .get, "/api/v1/notifiers", token: APIHarness.adminToken)
            let items = try #require(try list.data.arrayValue)
            #expect(items.map { $0["id"] } == [.number(1), .number(2), .number(5), .number(7)])
            #expect(items[1]["health"]?["state"] == .string("broken"))
            #expect(items[0]["health"]?["state"] == .string("ok"))
            let sent = try await harness.call(
                client,
                .post,
                "/api/v1/notifiers/1/test",
                token: APIHarness.adminToken,
                json: #"{"to":"ops@example.com"}"#
            )
            #expect(try sent.data["outcome"] == .string("delivered"))
            let badAddress = try await harness.call(
                client,
                .post,
                "/api/v1/notifiers/5/test",
                token: APIHarness.adminToken,
                json: #"{"to":"not-a-phone"}"#
            )
            #expect(badAddress.errorFields == ["to"])
            let missing = try await harness.call(
                client,
                .post,
                "/api/v1/notifiers/42/test",
                token: APIHarness.adminToken,
                json: #"{"to":"x"}"#
            )
            #expect(missing.status == .notFound)
        }
    }

    @Test func catalogKeysAtRunTime() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let builtIn = try await harness.call(
                client,
                .put,
                "/api/v1/admin/catalog/assigned",
                token: APIHarness.adminToken,
                json: #"{"type":"workflow"}"#
            )
            #expect(builtIn.errorFields == ["key"])
            let badKey = try await harness.call(
                client,
                .put,
                "/api/v1/admin/catalog/Bad-Key",
                token: APIHarness.adminToken,
                json: #"{"type":"x","defaults":{"fax":true}}"#
            )
            #expect(Set(badKey.errorFields) == ["key", "defaults.fax"])
            let notAdmin = try await harness.call(
                client,
                .put,
                "/api/v1/admin/catalog/new_key",
                token: APIHarness.writerToken,
                json: #"{"type":"x"}"#
            )
            #expect(notAdmin.status == .forbidden)
            let created = try await harness.call(
                client,
                .put,
                "/api/v1/admin/catalog/new_key",
                token: APIHarness.adminToken,
                json: #"{"type":"custom","description":"New","defaults":{"email":true}}"#
            )
            #expect(created.status == .created)
            #expect(try created.data["defaults"]?["email"] == .bool(true))
            let replaced = try await harness.call(
                client,
                .put,
                "/api/v1/admin/catalog/new_key",
                token: APIHarness.adminToken,
                json: #"{"type":"custom","critical":true}"#
            )
            #expect(replaced.status == .ok)
            let event = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json:
                    #"{"key":"new_key","organization":"acme","recipients":[{"channel":"email","address":"a@b.test"}]}"#
            )
            #expect(event.status == .accepted)
        }
        #expect(harness.dependencies.catalog.current.entry(for: "new_key")?.critical == true)
    }
}
