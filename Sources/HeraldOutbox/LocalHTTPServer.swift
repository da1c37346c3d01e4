import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as the local HTTP server received it.
public struct RecordedRequest: Sendable {
    /// The HTTP method (`POST`).
    public var method: String
    /// The request target: path and query (`/services/T/B/X?a=1`).
    public var path: String
    /// Header fields in arrival order, names as sent.
    public var headers: [(name: String, value: String)]
    /// The body; empty when the server was started with `recordBodies: false` (the handler still sees it).
    public var body: Data
    /// When the request's last byte arrived.
    public var receivedAt: Date
    /// Which TCP connection carried it (1, 2, …): distinct values show how many connections were used.
    public var connectionID: Int

    /// Creates a recorded request.
    public init(
        method: String,
        path: String,
        headers: [(name: String, value: String)],
        body: Data,
        receivedAt: Date,
        connectionID: Int
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.receivedAt = receivedAt
        self.connectionID = connectionID
    }

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The body as UTF-8 text (lossy).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the local HTTP server does with one request.
public enum LocalHTTPResponse: Sendable {
    /// Answers with a status, extra headers and a body (`Content-Length` is added).
    case status(Int, headers: [(String, String)] = [], body: String = "")
    /// Answers with a JSON body and `Content-Type: application/json`.
    case json(Int, String)
    /// Aborts the connection with a TCP RST (SO_LINGER {1, 0}, then close) without answering.
    case reset
    /// Never answers; the connection stays open until the client gives up.
    case noResponse
    /// Waits, then does the wrapped thing.
    indirect case delay(TimeInterval, LocalHTTPResponse)

    /// `200` with body `ok` (what a Slack webhook says).
    public static var ok: LocalHTTPResponse { .status(200, body: "ok") }

    /// A status with a `Retry-After` header (seconds or an HTTP date, sent as given).
    public static func status(_ code: Int, retryAfter: String, body: String = "") -> LocalHTTPResponse {
        .status(code, headers: [("Retry-After", retryAfter)], body: body)
    }
}

/// A local HTTP/1.1 server standing in for a vendor API (Slack, PagerDuty, …): `herald outbox`, tests and benchmarks.
///
/// Listens on real sockets (usually `127.0.0.1`, port 0), keeps connections alive, records what arrives
/// and answers with whatever the handler returns.
public final class LocalHTTPServer: Sendable {
    /// The bound port.
    public let port: Int
    private let host: String
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let core: LocalHTTPCore

    private init(
        host: String,
        port: Int,
        channel: any Channel,
        group: MultiThreadedEventLoopGroup,
        core: LocalHTTPCore
    ) {
        self.host = host
        self.port = port
        self.channel = channel
        self.group = group
        self.core = core
    }

    deinit {
        if core.markShutDown() {
            group.shutdownGracefully { _ in }
        }
    }

    /// `http://host:port`, without a trailing slash.
    public var baseURL: String { "http://\(host):\(port)" }

    /// Starts a server that answers every request with `handler`'s response.
    ///
    /// - Parameters:
    ///   - recordBodies: keep request bodies in `requests()` (turn off in benchmarks to save memory).
    ///   - recordRequests: keep requests at all; `requestCount` counts either way.
    ///   - threads: event-loop threads serving connections.
    ///   - onRequest: called for every request on the server's thread, before the handler; keep it cheap.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        recordBodies: Bool = true,
        recordRequests: Bool = true,
        threads: Int = 1,
        onRequest: (@Sendable (RecordedRequest) -> Void)? = nil,
        handler: @escaping @Sendable (RecordedRequest) -> LocalHTTPResponse
    ) async throws -> LocalHTTPServer {
        let core = LocalHTTPCore(
            recordBodies: recordBodies,
            recordRequests: recordRequests,
            onRequest: onRequest,
            handler: handler
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let connectionID = core.nextConnectionID()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        LocalHTTPHandler(core: core, connectionID: connectionID)
                    )
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            let boundPort = channel.localAddress?.port ?? port
            return LocalHTTPServer(host: host, port: boundPort, channel: channel, group: group, core: core)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Starts a server that answers with `script` in order, then with `then` for every further request.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        script: [LocalHTTPResponse],
        then: LocalHTTPResponse = .ok
    ) async throws -> LocalHTTPServer {
        let next = Mutex(0)
        return try await start(host: host, port: port) { _ in
            let index = next.withLock { index -> Int in
                defer { index += 1 }
                return index
            }
            return index < script.count ? script[index] : then
        }
    }

    /// Every request received so far, in arrival order.
    public func requests() -> [RecordedRequest] {
        core.requests()
    }

    /// How many requests arrived (counted even when not recorded).
    public var requestCount: Int { core.requestCount }

    /// How many TCP connections were accepted.
    public var connectionCount: Int { core.connectionCount }

    /// Stops listening, closes every connection and ends the server's threads.
    public func shutdown() async throws {
        guard core.markShutDown() else { return }
        try? await channel.close()
        try await group.shutdownGracefully()
    }
}

/// State shared by the server and its connections.
private final class LocalHTTPCore: Sendable {
    private struct State {
        var requests: [RecordedRequest] = []
        var shutDown = false
    }

    let recordBodies: Bool
    let recordRequests: Bool
    let onRequest: (@Sendable (RecordedRequest) -> Void)?
    let handler: @Sendable (RecordedRequest) -> LocalHTTPResponse
    private let state = Mutex(State())
    private let requestCounter = Atomic(0)
    private let connectionCounter = Atomic(0)

    init(
        recordBodies: Bool,
        recordRequests: Bool,
        onRequest: (@Sendable (RecordedRequest) -> Void)?,
        handler: @escaping @Sendable (RecordedRequest) -> LocalHTTPResponse
    ) {
        self.recordBodies = recordBodies
        self.recordRequests = recordRequests
        self.onRequest = onRequest
        self.handler = handler
    }

    var requestCount: Int { requestCounter.load(ordering: .relaxed) }
    var connectionCount: Int { connectionCounter.load(ordering: .relaxed) }

    func nextConnectionID() -> Int {
        connectionCounter.add(1, ordering: .relaxed).newValue
    }

    /// Returns true the first time only.
    func markShutDown() -> Bool {
        state.withLock { state in
            defer { state.shutDown = true }
            return !state.shutDown
        }
    }

    func requests() -> [RecordedRequest] {
        state.withLock { $0.requests }
    }

    func handle(_ request: RecordedRequest) -> LocalHTTPResponse {
        requestCounter.add(1, ordering: .relaxed)
        onRequest?(request)
        let response = handler(request)
        if recordRequests {
            var kept = request
            if !recordBodies {
                kept.body = Data()
            }
            state.withLock { $0.requests.append(kept) }
        }
        return response
    }
}

/// One connection's request handler: collects a request, asks the core, writes the answer.
private final class LocalHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: LocalHTTPCore
    private let connectionID: Int
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?

    init(core: LocalHTTPCore, connectionID: Int) {
        self.core = core
        self.connectionID = connectionID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
        case .body(var chunk):
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let request = RecordedRequest(
                method: head.method.rawValue,
                path: head.uri,
                headers: head.headers.map { (name: $0.name, value: $0.value) },
                body: body.map { Data($0.readableBytesView) } ?? Data(),
                receivedAt: Date(),
                connectionID: connectionID
            )
            body = nil
            let response = core.handle(request)
            respond(response, version: head.version, keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func respond(
        _ response: LocalHTTPResponse,
        version: HTTPVersion,
        keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        switch response {
        case .status(let code, let headers, let body):
            write(code, headers: headers, body: body, version: version, keepAlive: keepAlive, context: context)
        case .json(let code, let body):
            let headers = [("Content-Type", "application/json")]
            write(code, headers: headers, body: body, version: version, keepAlive: keepAlive, context: context)
        case .reset:
            if let provider = context.channel as? any SocketOptionProvider {
                _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            }
            context.close(promise: nil)
        case .noResponse:
            break
        case .delay(let seconds, let then):
            let delay = TimeAmount.nanoseconds(Int64(max(0, seconds) * 1_000_000_000))
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.respond(then, version: version, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func write(
        _ code: Int,
        headers extra: [(String, String)],
        body: String,
        version: HTTPVersion,
        keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        for (name, value) in extra {
            headers.add(name: name, value: value)
        }
        let buffer = context.channel.allocator.buffer(string: body)
        headers.replaceOrAdd(name: "Content-Length", value: String(buffer.readableBytes))
        if !keepAlive {
            headers.replaceOrAdd(name: "Connection", value: "close")
        }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: code), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if buffer.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}
