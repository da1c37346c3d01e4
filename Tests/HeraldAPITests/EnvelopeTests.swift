import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HummingbirdTesting
import Testing

@Suite struct EnvelopeTests {
    @Test func unknownRouteIs404EnvelopeAndWrongMethodIs405WithAllow() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let missing = try await client.send(.get, "/api/v1/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "NOT_FOUND")
            #expect(try missing.error["correlationId"]?.stringValue == missing.headers[.xRequestId])
            let wrong = try await client.send(.delete, "/api/v1/events")
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.errorCode == "METHOD_NOT_ALLOWED")
            #expect(
                Set((wrong.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    == ["GET", "POST"]
            )
        }
    }

    @Test func saneRequestIdIsReusedAndInsaneReplaced() async throws {
        let harness = try await APIHarness()
        try await harness.test { client in
            let reused = try await client.send(.get, "/healthz", headers: [.xRequestId: "abc-123"])
            #expect(reused.headers[.xRequestId] == "abc-123")
            let replaced = try await client.send(.get, "/healthz", headers: [.xRequestId: "bad id\u{7F}"])
            #expect(replaced.headers[.xRequestId] != "bad id\u{7F}")
            #expect(replaced.headers[.xRequestId]?.count == 32)
        }
        #expect(harness.logs.all.allSatisfy { !$0.contains("request ") || $0.contains("request.id=") })
    }

    @Test func healthAndReadiness() async throws {
        let harness = try await APIHarness(
            operations: APIOperations(readiness: {
                (
                    worker: true, broken: [ReadinessReport.Destination(notifier: 2, destination: "C1", error: "404")],
                    notConfigured: []
                )
            })
        )
        try await harness.test { client in
            let health = try await harness.call(client, .get, "/healthz")
            #expect(try health.data["status"] == .string("ok"))
            let ready = try await harness.call(client, .get, "/readyz")
            #expect(ready.status == .ok)
            #expect(try ready.data["brokenDestinations"]?[0]?["notifier"] == .number(2))
            let document = try await harness.call(client, .get, "/api/v1/openapi.json")
            #expect(try document.json["openapi"] == .string("3.1.0"))
        }
        let unready = try await APIHarness(
            operations: APIOperations(readiness: { (worker: false, broken: [], notConfigured: []) })
        )
        try await unready.test { client in
            let response = try await unready.call(client, .get, "/readyz")
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorFields == ["worker"])
        }
    }

    @Test func metricsRouteServesTheHook() async throws {
        let harness = try await APIHarness(
            operations: APIOperations(metricsExposition: { "# TYPE herald_up gauge\nherald_up 1\n" })
        )
        try await harness.test { client in
            let response = try await harness.call(client, .get, "/metrics")
            #expect(String(buffer: response.body).contains("herald_up 1"))
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
        }
    }

    @Test func routerAndDocumentAgree() async throws {
        let harness = try await APIHarness()
        let routed = Set(harness.routes.routes.map { "\($0.method.rawValue) \($0.path)" })
        let documented = OpenAPIChecker.shared.operations
        #expect(
            routed.subtracting(documented).isEmpty,
            "routes missing from openapi.yaml: \(routed.subtracting(documented).sorted())"
        )
        #expect(
            documented.subtracting(routed).isEmpty,
            "documented but not routed: \(documented.subtracting(routed).sorted())"
        )
    }

    @Test func embeddedDocumentIsTheRepositoryFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        #expect(file == OpenAPIDocument.text + "\n" || file == OpenAPIDocument.text, "run scripts/embed-openapi.sh")
    }

    @Test func everyErrorCodeIsDocumented() {
        let documented =
            OpenAPIChecker.shared.document["components"]?["schemas"]?["ErrorCode"]?["enum"]?.arrayValue?
            .compactMap(\.stringValue) ?? []
        #expect(Set(documented) == Set(APIErrorCode.allCases.map(\.rawValue)))
    }
}
