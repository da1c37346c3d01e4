import Foundation
import HeraldTesting
import Testing

extension EndToEndTests {
    @Test(
        "faults (500, 429 Retry-After: 2, resets): everything delivered, no request into a pause",
        .timeLimit(.minutes(3))
    )
    func faultsAndRetryAfter() async throws {
        let sink = FaultySink()
        let server = try await FakeVendorServer.start { request in sink.respond(request) }
        // As many connections as transfers: a request Herald hands to curl goes on the wire at once, so
        // "in flight when the 429 came back" means "arrived within the grace".
        let config = HeraldConfig()
            .with(worker: "concurrency", "16")
            .with(worker: "maxHostConnections", "16")
            .with(worker: "leaseSeconds", "30")
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let daemon = try await env.startDaemon()
        let destinations = 10
        let objects = (0..<200).map { n in
            EventJSON.object(
                text: "fault \(n)",
                recipients: [("webhook", "\(server.baseURL)/hook/\(n % destinations)")]
            )
        }
        let ids = try await env.enqueueAccepted(EventJSON.lines(objects))
        try #require(ids.count == 200)

        try await eventually(
            "200 events answered 200 (got \(sink.snapshot.delivered.count))",
            timeout: .seconds(90),
            every: .milliseconds(50)
        ) { sink.snapshot.delivered.count >= 200 }
        let status = try await env.waitForStatus("200 delivered", timeout: .seconds(15), daemon: daemon) {
            $0.deliveries("delivered") == 200
        }
        #expect(status.deliveries("dead") == 0)

        let state = sink.snapshot
        #expect(state.delivered == Set(ids), "every accepted event answered 200 once")
        let counts = FaultySink.Fault.allCases.map { "\($0.rawValue)=\(state.counts[$0] ?? 0)" }
        print("faults: \(server.requestCount) requests, \(counts.joined(separator: " "))")
        #expect((state.counts[.serverError] ?? 0) > 0)
        #expect((state.counts[.tooManyRequests] ?? 0) > 0)
        #expect((state.counts[.reset] ?? 0) > 0)

        // Per destination: after a 429 is answered, nothing may arrive until its Retry-After has passed, except
        // requests already in flight (arriving within the grace).
        let grace = 0.1
        let pause = Double(sink.retryAfterSeconds)
        let requests = server.requests()
        var violations: [String] = []
        for (path, sentTimes) in state.tooManySentAt {
            for sent in sentTimes {
                for request in requests where request.path == path {
                    let offset = request.receivedAt.timeIntervalSince(sent)
                    if offset > grace && offset < pause {
                        violations.append(
                            "\(path): request \(request.header("X-Herald-Delivery-Id") ?? "?") "
                                + "\(String(format: "%.3f", offset)) s after a 429"
                        )
                    }
                }
            }
        }
        #expect(violations.isEmpty, "requests into a Retry-After pause: \(violations.prefix(10))")
        try await server.shutdown()
    }
}
