import Foundation
import HeraldTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension EndToEndTests {
    /// A daemon with the HTTP API on a free port, and its port.
    static func startAPIDaemon(_ env: HeraldEnvironment) async throws -> (DaemonProcess, Int) {
        let daemon = try await env.startDaemon()
        let port = try #require(daemon.apiPort, "no api listening line:\n\(daemon.logTail(lines: 20))")
        return (daemon, port)
    }

    static func post(_ client: KeepAliveHTTPClient, _ body: String) async throws -> KeepAliveHTTPClient.Response {
        try await client.send(
            "POST",
            "/api/v1/events",
            headers: [("Authorization", "Bearer \(HeraldConfig.apiToken)"), ("Content-Type", "application/json")],
            body: Data(body.utf8)
        )
    }

    /// The accepted ids of a 202 answer.
    static func acceptedIds(_ response: KeepAliveHTTPClient.Response) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let data = object?["data"] as? [String: Any]
        return (data?["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test("2,000 events POSTed singly over 32 connections and in batches are all delivered", .timeLimit(.minutes(3)))
    func apiIntakeSinglyAndInBatches() async throws {
        let server = try await FakeVendorServer.start(recordRequests: false) { _ in .ok }
        var config = HeraldConfig()
        config.apiListen = "127.0.0.1:0"
        config.logLevel = "info"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let (daemon, port) = try await Self.startAPIDaemon(env)
        let hook = "\(server.baseURL)/hook"
        let singles = 2000
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for connection in 0..<32 {
                group.addTask {
                    let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
                    var ids: [String] = []
                    for n in stride(from: connection, to: singles, by: 32) {
                        let body = EventJSON.line(
                            EventJSON.object(id: "single-\(n)", text: "s\(n)", recipients: [("webhook", hook)])
                        )
                        let response = try await Self.post(client, body)
                        #expect(response.status == 202, "\(String(decoding: response.body, as: UTF8.self))")
                        ids += try Self.acceptedIds(response)
                    }
                    await client.close()
                    return ids
                }
            }
            var all: [String] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(Set(acknowledged).count == singles)
        let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
        var batched: [String] = []
        for batch in 0..<20 {
            let events = (0..<100).map { n in
                EventJSON.line(EventJSON.object(id: "batch-\(batch)-\(n)", recipients: [("webhook", hook)]))
            }
            let response = try await Self.post(client, #"{"events":[\#(events.joined(separator: ","))]}"#)
            #expect(response.status == 202)
            batched += try Self.acceptedIds(response)
        }
        await client.close()
        #expect(batched.count == 2000)
        try await eventually("4,000 requests at the sink (got \(server.requestCount))", timeout: .seconds(90)) {
            server.requestCount >= 4000
        }
        let status = try await env.waitForStatus("4,000 delivered", timeout: .seconds(30), daemon: daemon) {
            $0.deliveries("delivered") == 4000
        }
        #expect(status.events["fannedOut"] == 4000)
        #expect(daemon.isRunning)
        try await server.shutdown()
    }

    @Test("SIGTERM during a POST storm loses no acknowledged event", .timeLimit(.minutes(3)))
    func sigtermDuringPostStorm() async throws {
        let server = try await FakeVendorServer.start(recordRequests: false) { _ in .ok }
        var config = HeraldConfig()
        config.apiListen = "127.0.0.1:0"
        config.logLevel = "info"
        let env = try HeraldEnvironment(config: config)
        defer { env.close() }
        let (daemon, port) = try await Self.startAPIDaemon(env)
        let hook = "\(server.baseURL)/hook"
        let ledger = AcknowledgedLedger()
        let storm = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for connection in 0..<16 {
                    group.addTask {
                        guard let client = try? await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port) else {
                            return
                        }
                        var n = 0
                        while !Task.isCancelled {
                            let id = "storm-\(connection)-\(n)"
                            n += 1
                            let body = EventJSON.line(EventJSON.object(id: id, recipients: [("webhook", hook)]))
                            guard let response = try? await Self.post(client, body) else { break }
                            if response.status == 202 { ledger.add(id) }
                        }
                        await client.close()
                    }
                }
                try await group.waitForAll()
            }
        }
        try await eventually("some events acknowledged", timeout: .seconds(30)) { ledger.count >= 300 }
        daemon.signal(SIGTERM)
        let exit = await daemon.waitForExit(timeout: .seconds(30))
        storm.cancel()
        _ = try? await storm.value
        #expect(exit == 0, "exit status \(String(describing: exit)):\n\(daemon.logTail(lines: 30))")
        let acknowledged = ledger.all
        #expect(acknowledged.count >= 300)
        // Every acknowledged event is in the store, and a restarted daemon delivers all of them.
        let restarted = try await env.startDaemon()
        try await eventually(
            "acknowledged events delivered (\(server.requestCount)/\(acknowledged.count))",
            timeout: .seconds(90)
        ) {
            server.requestCount >= acknowledged.count
        }
        for id in acknowledged.prefix(50) {
            let result = try await env.run(["explain", id, "--format", "json"])
            #expect(result.exitCode == 0, "\(id) was acknowledged but is not stored: \(result.stderr)")
        }
        let status = try await env.status()
        #expect((status.events["fannedOut"] ?? 0) >= acknowledged.count)
        #expect(restarted.isRunning)
        try await server.shutdown()
    }
}

/// The ids the API acknowledged with 202, collected across connections.
final class AcknowledgedLedger: Sendable {
    private let ids = Mutex<[String]>([])
    func add(_ id: String) { ids.withLock { $0.append(id) } }
    var count: Int { ids.withLock { $0.count } }
    var all: [String] { ids.withLock { $0 } }
}
