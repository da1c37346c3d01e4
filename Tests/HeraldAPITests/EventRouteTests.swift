import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HeraldTesting
import HummingbirdTesting
import Testing

@Suite struct EventRouteTests {
    static let event =
        #"{"key":"payout_processed","organization":"acme","recipients":[{"channel":"email","address":"ops@example.com"}]}"#

    static func event(id: String, title: String = "t") -> String {
        #"{"id":"\#(id)","key":"payout_processed","organization":"acme","data":{"title":"\#(title)"},"recipients":[{"channel":"email","address":"ops@example.com"}]}"#
    }

    @Test func acceptsOneEventOnceDurable() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let response = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: Self.event
            )
            #expect(response.status == .accepted)
            let data = try response.data
            #expect(data["accepted"] == .number(1))
            let id = try #require(data["events"]?[0]?["id"]?.stringValue)
            let record = try await harness.store.eventRecord(id: id)
            #expect(record?.event.key == "payout_processed")
        }
    }

    @Test func batchReportsEachEventAndDuplicates() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let body = #"{"events":[\#(Self.event(id: "e1")),\#(Self.event(id: "e2"))]}"#
            let first = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: body
            )
            #expect(first.status == .accepted)
            #expect(try first.data["accepted"] == .number(2))
            let again = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: body
            )
            let data = try again.data
            #expect(data["duplicates"] == .number(2))
            #expect(data["events"]?[1]?["status"] == .string("duplicate"))
            #expect(data["events"]?[1]?["id"] == .string("e2"))
        }
    }

    @Test func invalidBatchListsEveryIndexAndStoresNothing() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let body =
                #"{"events":[\#(Self.event(id: "ok1")),{"key":"nope","organization":"acme"},{"key":"payout_processed"}]}"#
            let response = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: body
            )
            #expect(response.status == .badRequest)
            let fields = response.errorFields
            #expect(fields.contains { $0.hasPrefix("events[1]") }, "\(fields)")
            #expect(fields.contains { $0.hasPrefix("events[2]") }, "\(fields)")
            #expect(try await harness.store.eventRecord(id: "ok1") == nil)
        }
    }

    @Test func unknownKeyAndUnknownFieldsAreRefused() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let unknown = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: #"{"key":"no_such_key","organization":"acme"}"#
            )
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorCode == "UNKNOWN_EVENT_KEY")
            let typo = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json:
                    #"{"key":"payout_processed","organization":"acme","recipients":[{"channel":"sms","address":"+15550001111"}],"projcet":"x"}"#
            )
            #expect(typo.status == .badRequest)
            #expect(typo.errorFields.contains("projcet"), "\(typo.errorFields)")
        }
    }

    @Test func idempotencyKeyHeaderAndConflict() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let key: HTTPFields = [.idempotencyKey: "order-42"]
            let first = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: Self.event,
                headers: key
            )
            let id = try first.data["events"]?[0]?["id"]
            let second = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: Self.event,
                headers: key
            )
            #expect(try second.data["events"]?[0]?["status"] == .string("duplicate"))
            #expect(try second.data["events"]?[0]?["id"] == id)
            let other = Self.event.replacingOccurrences(of: "ops@example.com", with: "other@example.com")
            let conflict = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: other,
                headers: key
            )
            #expect(conflict.status == .conflict)
            #expect(conflict.errorCode == "IDEMPOTENCY_CONFLICT")
            #expect(conflict.errorFields == ["Idempotency-Key"])
        }
    }

    @Test func oversizedNonJSONAndMalformedBodies() async throws {
        let harness = try await APIHarness(limits: APILimits(maxBodyBytes: 2048))
        try await harness.test { client in
            let big =
                #"{"key":"payout_processed","organization":"acme","data":{"text":""#
                + String(repeating: "x", count: 4096) + #""}}"#
            let tooLarge = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: big
            )
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode == "PAYLOAD_TOO_LARGE")
            let text = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: Self.event,
                headers: [.contentType: "text/plain"]
            )
            #expect(text.status == .unsupportedMediaType)
            #expect(text.errorCode == "UNSUPPORTED_MEDIA_TYPE")
            let malformed = try await harness.call(
                client,
                .post,
                "/api/v1/events",
                token: APIHarness.writerToken,
                json: #"{"key": "x",, }"#
            )
            #expect(malformed.status == .badRequest)
            let message = try malformed.error["message"]?.stringValue ?? ""
            #expect(message.contains("at byte 12"), "\(message)")
        }
    }

    @Test func concurrentRequestsShareCommitsAndAllArrive() async throws {
        let harness = try await APIHarness()
        try await harness.testLive { client in
            let port = try #require(client.port)
            try await withThrowingTaskGroup(of: [String].self) { group in
                for connection in 0..<16 {
                    group.addTask {
                        let http = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
                        var ids: [String] = []
                        for index in 0..<10 {
                            let response = try await http.send(
                                "POST",
                                "/api/v1/events",
                                headers: [
                                    ("Authorization", "Bearer \(APIHarness.writerToken)"),
                                    ("Content-Type", "application/json"),
                                ],
                                body: Data(Self.event(id: "c\(connection)-\(index)").utf8)
                            )
                            #expect(response.status == 202)
                            let data = try JSONParser.parse(response.body)["data"]
                            ids.append(data?["events"]?[0]?["id"]?.stringValue ?? "")
                        }
                        await http.close()
                        return ids
                    }
                }
                var ids = Set<String>()
                for try await batch in group { ids.formUnion(batch) }
                #expect(ids.count == 160)
            }
        }
        let page = try await harness.store.listEvents(EventListQuery(limit: 500))
        #expect(page.count == 160)
        let (commits, requests) = await (
            harness.dependencies.commitQueue.commits, harness.dependencies.commitQueue.requests
        )
        #expect(requests == 160)
        #expect(commits <= requests, "\(commits) commits for \(requests) requests")
    }

    @Test func explainAndListWithCursor() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            for index in 0..<5 {
                try await harness.call(
                    client,
                    .post,
                    "/api/v1/events",
                    token: APIHarness.writerToken,
                    json: Self.event(id: "p\(index)")
                )
            }
            let explained = try await harness.call(client, .get, "/api/v1/events/p3", token: APIHarness.readerToken)
            #expect(try explained.data["id"] == .string("p3"))
            #expect(try explained.data["state"] == .string("accepted"))
            let missing = try await harness.call(client, .get, "/api/v1/events/none", token: APIHarness.readerToken)
            #expect(missing.status == .notFound)
            var seen: [String] = []
            var uri = "/api/v1/events?limit=2"
            while true {
                let page = try await harness.call(client, .get, uri, token: APIHarness.readerToken).data
                seen += page["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                guard let cursor = page["nextCursor"]?.stringValue else { break }
                uri = "/api/v1/events?limit=2&cursor=\(cursor)"
            }
            #expect(seen == ["p4", "p3", "p2", "p1", "p0"])
            let bad = try await harness.call(
                client,
                .get,
                "/api/v1/events?limit=0&color=red",
                token: APIHarness.readerToken
            )
            #expect(bad.status == .badRequest)
            #expect(Set(bad.errorFields) == ["limit", "color"])
        }
    }
}
