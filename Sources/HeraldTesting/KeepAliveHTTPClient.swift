import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A minimal HTTP/1.1 client over one keep-alive connection, for driving Herald's API from end-to-end tests
/// and load generators: one request at a time per client (open several clients for concurrency).
public final class KeepAliveHTTPClient: Sendable {
    /// A response: status, headers and body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: Data

        /// The first value of a header, compared case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// A failure to connect or a connection that closed before the response.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private let channel: any Channel
    private let handler: ResponseCollector
    private let host: String

    private init(channel: any Channel, handler: ResponseCollector, host: String) {
        self.channel = channel
        self.handler = handler
        self.host = host
    }

    /// Connects to `host:port`.
    public static func connect(host: String, port: Int) async throws -> KeepAliveHTTPClient {
        let collector = ResponseCollector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.pipeline.addHTTPClientHandlers().flatMap { channel.pipeline.addHandler(collector) }
            }
            .connect(host: host, port: port).get()
        return KeepAliveHTTPClient(channel: channel, handler: collector, host: host)
    }

    /// Sends one request and waits for its response.
    public func send(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: Data? = nil
    ) async throws -> Response {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
        head.headers.add(name: "Host", value: host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        guard channel.isActive else { throw Failure(description: "the connection is closed") }
        let promise = channel.eventLoop.makePromise(of: Response.self)
        handler.expect(promise, on: channel.eventLoop)
        // A write that fails (the peer closed) fails the response too, so no caller waits forever.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [handler] error in handler.fail(error) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body, !body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: written)
        return try await promise.futureResult.get()
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}

/// Collects one response at a time and completes the pending promise.
private final class ResponseCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private struct State {
        var promise: EventLoopPromise<KeepAliveHTTPClient.Response>?
        var response = KeepAliveHTTPClient.Response(status: 0, headers: [], body: Data())
    }

    private let state = Mutex(State())

    func expect(_ promise: EventLoopPromise<KeepAliveHTTPClient.Response>, on loop: any EventLoop) {
        state.withLock { $0.promise = promise }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            state.withLock {
                $0.response = KeepAliveHTTPClient.Response(
                    status: Int(head.status.code),
                    headers: head.headers.map { ($0.name, $0.value) },
                    body: Data()
                )
            }
        case .body(let buffer):
            state.withLock { $0.response.body.append(contentsOf: buffer.readableBytesView) }
        case .end:
            let (promise, response) = state.withLock { state in
                let promise = state.promise
                state.promise = nil
                return (promise, state.response)
            }
            promise?.succeed(response)
        }
    }

    /// Fails the pending response, if any.
    func fail(_ error: any Error) {
        let promise = state.withLock { state in
            let promise = state.promise
            state.promise = nil
            return promise
        }
        promise?.fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(KeepAliveHTTPClient.Failure(description: "the connection closed before the response"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }
}
