import Foundation
import HeraldCore
import HeraldCurl
import HeraldTesting
import Testing

@Suite("CurlTransport over HTTP")
struct CurlTransportTests {
    @Test func returnsStatusBodyAndContentType() async throws {
        let server = try await FakeVendorServer.start { _ in .json(201, #"{"ok":true}"#) }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(HTTPRequest(url: server.baseURL + "/hook", body: Data("{}".utf8)))

        let response = try #require(result.response)
        #expect(response.status == 201)
        #expect(response.bodyText == #"{"ok":true}"#)
        #expect(response.contentType == "application/json")
        #expect(response.retryAfter == nil)
        try await server.shutdown()
    }

    @Test func sendsMethodPathHeadersAndBody() async throws {
        let server = try await FakeVendorServer.start { _ in .ok }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let request = HTTPRequest(
            url: server.baseURL + "/services/x?a=1&b=2",
            headers: [
                HTTPHeader("User-Agent", "Herald/1.2.3"),
                HTTPHeader("Content-Type", "application/json; charset=utf-8"),
                HTTPHeader("X-Herald-Event-Id", "ev_123"),
                HTTPHeader("X-Herald-Delivery-Id", "dl_456"),
            ],
            body: Data(#"{"text":"hello"}"#.utf8)
        )

        let result = await transport.send(request)

        #expect(result.response?.status == 200)
        #expect(result.response?.bodyText == "ok")
        let received = try #require(server.requests().first)
        #expect(received.method == "POST")
        #expect(received.path == "/services/x?a=1&b=2")
        #expect(received.header("user-agent") == "Herald/1.2.3")
        #expect(received.header("content-type") == "application/json; charset=utf-8")
        #expect(received.header("X-Herald-Event-Id") == "ev_123")
        #expect(received.header("x-herald-delivery-id") == "dl_456")
        #expect(received.header("Expect") == nil)
        #expect(received.bodyText == #"{"text":"hello"}"#)
        try await server.shutdown()
    }

    @Test(arguments: ["PUT", "PATCH", "DELETE"])
    func sendsOtherMethodsWithTheirBody(method: String) async throws {
        let server = try await FakeVendorServer.start { _ in .status(204) }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(
            HTTPRequest(method: method, url: server.baseURL + "/r", body: Data("payload".utf8))
        )

        #expect(result.response?.status == 204)
        let received = try #require(server.requests().first)
        #expect(received.method == method)
        #expect(received.bodyText == "payload")
        try await server.shutdown()
    }

    @Test func sendsGetWithoutBody() async throws {
        let server = try await FakeVendorServer.start { _ in .status(200, body: "pong") }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(HTTPRequest(method: "GET", url: server.baseURL + "/ping"))

        #expect(result.response?.bodyText == "pong")
        #expect(server.requests().first?.method == "GET")
        #expect(server.requests().first?.body.isEmpty == true)
        try await server.shutdown()
    }

    @Test(arguments: ["120", "Wed, 21 Oct 2015 07:28:00 GMT"])
    func capturesRetryAfterRaw(value: String) async throws {
        let server = try await FakeVendorServer.start(script: [.status(429, retryAfter: value, body: "slow down")])
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(HTTPRequest(url: server.baseURL + "/hook"))

        let response = try #require(result.response)
        #expect(response.status == 429)
        #expect(response.retryAfter == value)
        #expect(response.bodyText == "slow down")
        try await server.shutdown()
    }

    @Test func headersDoNotLeakIntoTheNextResponseOnTheSameConnection() async throws {
        let server = try await FakeVendorServer.start(
            script: [.status(503, retryAfter: "7"), .status(200, body: "fine")]
        )
        let transport = CurlTransport(maxHostConnections: 1)
        defer { transport.shutdown() }

        let first = await transport.send(HTTPRequest(url: server.baseURL + "/a"))
        let second = await transport.send(HTTPRequest(url: server.baseURL + "/b"))

        #expect(first.response?.retryAfter == "7")
        #expect(second.response?.status == 200)
        #expect(second.response?.retryAfter == nil)
        #expect(second.response?.contentType == nil)
        #expect(Set(server.requests().map(\.connectionID)).count == 1)
        try await server.shutdown()
    }

    @Test func capsTheResponseBodyAt64KiB() async throws {
        let big = String(repeating: "x", count: 200_000)
        let server = try await FakeVendorServer.start { _ in .status(500, body: big) }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(HTTPRequest(url: server.baseURL + "/big"))

        let response = try #require(result.response)
        #expect(response.status == 500)
        #expect(response.body.count == 64 * 1024)
        #expect(response.body.allSatisfy { $0 == UInt8(ascii: "x") })
        try await server.shutdown()
    }

    @Test func connectionRefusedIsAConnectFailureWithNothingSent() async throws {
        let closed = try await FakeVendorServer.start { _ in .ok }
        let port = closed.port
        try await closed.shutdown()
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(HTTPRequest(url: "http://127.0.0.1:\(port)/services/T000/B000/SECRETSECRET"))

        let failure = try #require(result.failure)
        #expect(failure.kind == .connect)
        #expect(failure.code == 7)
        #expect(failure.requestSent == false)
        #expect(!failure.message.contains("SECRETSECRET"))
        #expect(!failure.message.contains("/services"))
    }

    @Test func connectionResetIsATransferFailureAfterSending() async throws {
        let server = try await FakeVendorServer.start { _ in .reset }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(
            HTTPRequest(url: server.baseURL + "/services/T000/B000/SECRETSECRET", body: Data("{}".utf8))
        )

        let failure = try #require(result.failure)
        #expect(failure.kind == .transfer)
        #expect([52, 55, 56].contains(failure.code))
        #expect(failure.requestSent)
        #expect(!failure.message.contains("SECRETSECRET"))
        #expect(server.requestCount == 1)
        try await server.shutdown()
    }

    @Test func serverThatNeverAnswersTimesOut() async throws {
        let server = try await FakeVendorServer.start { _ in .noResponse }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(
            HTTPRequest(url: server.baseURL + "/services/T000/B000/SECRETSECRET", totalTimeout: 0.5)
        )

        let failure = try #require(result.failure)
        #expect(failure.kind == .timeout)
        #expect(failure.code == 28)
        #expect(failure.requestSent)
        #expect(!failure.message.contains("SECRETSECRET"))
        #expect(!failure.message.contains("T000"))
        try await server.shutdown()
    }

    @Test func delayedAnswerArrivesWithinTheTimeout() async throws {
        let server = try await FakeVendorServer.start { _ in .delay(0.05, .json(202, "{}")) }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(HTTPRequest(url: server.baseURL + "/slow", totalTimeout: 10))

        #expect(result.response?.status == 202)
        try await server.shutdown()
    }

    @Test func unsupportedSchemeIsAConfigurationFailureWithoutTheURL() async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(HTTPRequest(url: "file:///etc/SECRETSECRET/passwd"))

        let failure = try #require(result.failure)
        #expect(failure.kind == .configuration)
        #expect(failure.requestSent == false)
        #expect(!failure.message.contains("SECRETSECRET"))
    }

    @Test func lineBreaksInHeadersAreRefusedBeforeSending() async throws {
        let server = try await FakeVendorServer.start { _ in .ok }
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let result = await transport.send(
            HTTPRequest(url: server.baseURL + "/h", headers: [HTTPHeader("X-Test", "a\r\nX-Injected: 1")])
        )

        #expect(result.failure?.kind == .configuration)
        #expect(server.requestCount == 0)
        try await server.shutdown()
    }

    @Test func manyConcurrentRequestsCompleteOverFewConnections() async throws {
        let server = try await FakeVendorServer.start { request in .status(200, body: request.path) }
        let transport = CurlTransport(maxHostConnections: 8)
        defer { transport.shutdown() }

        let results = await withTaskGroup(of: (Int, TransportResult).self) { group in
            for index in 0..<500 {
                group.addTask {
                    (index, await transport.send(HTTPRequest(url: server.baseURL + "/r/\(index)")))
                }
            }
            var results: [Int: TransportResult] = [:]
            for await (index, result) in group {
                results[index] = result
            }
            return results
        }

        #expect(results.count == 500)
        for (index, result) in results {
            #expect(result.response?.status == 200)
            #expect(result.response?.bodyText == "/r/\(index)")
        }
        let connections = Set(server.requests().map(\.connectionID))
        #expect(server.requestCount == 500)
        #expect(connections.count <= 8)
        try await server.shutdown()
    }

    @Test func transfersBeyondTheConnectionLimitWaitWithoutAHandle() async throws {
        let server = try await FakeVendorServer.start { request in .status(200, body: request.path) }
        let transport = CurlTransport(maxHostConnections: 3)
        defer { transport.shutdown() }

        let results = await withTaskGroup(of: (Int, TransportResult).self) { group in
            for index in 0..<300 {
                group.addTask {
                    (index, await transport.send(HTTPRequest(url: server.baseURL + "/w/\(index)")))
                }
            }
            var results: [Int: TransportResult] = [:]
            for await (index, result) in group {
                results[index] = result
            }
            return results
        }

        #expect(results.count == 300)
        for (index, result) in results {
            #expect(result.response?.bodyText == "/w/\(index)")
        }
        #expect(Set(server.requests().map(\.connectionID)).count <= 3)
        // One handle per connection: the other requests waited as requests, not as easy handles in the multi.
        #expect(transport.easyHandleCount <= 3)
        try await server.shutdown()
    }

    @Test func theWaitForAConnectionCountsTowardTheTotalTimeout() async throws {
        // The server never answers: the first request holds the only connection for its 2 s, and the second,
        // queued after the first arrived, has used up its 0.2 s by the time the connection frees: it fails unsent.
        let (arrivals, arrived) = AsyncStream.makeStream(of: String.self)
        let server = try await FakeVendorServer.start(
            onRequest: { arrived.yield($0.path) },
            handler: { _ in .noResponse }
        )
        let transport = CurlTransport(maxHostConnections: 1)
        defer { transport.shutdown() }

        async let first = transport.send(HTTPRequest(url: server.baseURL + "/first", totalTimeout: 2))
        var paths = arrivals.makeAsyncIterator()
        #expect(await paths.next() == "/first")
        let second = await transport.send(HTTPRequest(url: server.baseURL + "/second", totalTimeout: 0.2))
        let one = await first

        #expect(one.failure?.kind == .timeout)
        #expect(one.failure?.requestSent == true)
        #expect(second.failure?.kind == .timeout)
        #expect(second.failure?.requestSent == false)
        #expect(second.failure?.message.contains("waiting for a free connection") == true)
        #expect(second.failure?.message.contains(server.baseURL) == false)
        #expect(server.requests().map(\.path) == ["/first"])
        try await server.shutdown()
    }

    @Test func shutdownResumesEveryRequestInFlight() async throws {
        let (arrivals, arrived) = AsyncStream.makeStream(of: Void.self)
        let server = try await FakeVendorServer.start(
            onRequest: { _ in arrived.yield() },
            handler: { _ in .noResponse }
        )
        let transport = CurlTransport(maxHostConnections: 4)

        let results = await withTaskGroup(of: TransportResult.self) { group in
            for index in 0..<20 {
                group.addTask {
                    await transport.send(HTTPRequest(url: server.baseURL + "/hang/\(index)", totalTimeout: 60))
                }
            }
            // Four reach the server (one per connection); the other sixteen wait inside the multi handle.
            var count = 0
            for await _ in arrivals {
                count += 1
                if count == 4 { break }
            }
            transport.shutdown()
            var results: [TransportResult] = []
            for await result in group {
                results.append(result)
            }
            return results
        }

        #expect(results.count == 20)
        #expect(results.allSatisfy { $0.failure?.kind == .aborted })
        #expect(results.filter { $0.failure?.requestSent == true }.count >= 4)
        let after = await transport.send(HTTPRequest(url: server.baseURL + "/late"))
        #expect(after.failure?.kind == .aborted)
        transport.shutdown()
        try await server.shutdown()
    }
}

extension TransportResult {
    var response: HTTPResponse? {
        if case .response(let response) = self { return response }
        return nil
    }

    var failure: TransportFailure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
