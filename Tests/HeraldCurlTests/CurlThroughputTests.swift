import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

/// A load check, off by default: `HERALD_CURL_THROUGHPUT=1 swift test -c release --filter CurlThroughput`.
@Suite("CurlTransport throughput", .enabled(if: ProcessInfo.processInfo.environment["HERALD_CURL_THROUGHPUT"] != nil))
struct CurlThroughputTests {
    @Test func keepAliveRequestsPerSecond() async throws {
        let total = 100_000
        let inFlight = 256
        let server = try await FakeVendorServer.start(recordRequests: false) { _ in .ok }
        let transport = CurlTransport(maxHostConnections: 8)
        defer { transport.shutdown() }
        let request = HTTPRequest(
            url: server.baseURL + "/services/T000/B000/XXXX",
            headers: [
                HTTPHeader("User-Agent", "Herald/0.1"),
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("X-Herald-Event-Id", "ev_0123456789"),
                HTTPHeader("X-Herald-Delivery-Id", "dl_0123456789"),
            ],
            body: Data(#"{"text":"Disk full on db-1","blocks":[]}"#.utf8)
        )

        let start = ContinuousClock.now
        let succeeded = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<inFlight {
                group.addTask {
                    var ok = 0
                    for _ in stride(from: worker, to: total, by: inFlight) {
                        if case .response(let response) = await transport.send(request), response.status == 200 {
                            ok += 1
                        }
                    }
                    return ok
                }
            }
            return await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("CurlTransport: \(total) requests in \(seconds) s = \(Int(Double(total) / seconds)) requests/s")
        #expect(succeeded == total)
        #expect(server.connectionCount <= 8)
        try await server.shutdown()
    }
}
