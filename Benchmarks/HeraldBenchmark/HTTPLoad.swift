import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One request of a load run.
struct LoadRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var headers: [(String, String)] = []
    var body: [UInt8] = []
}

/// What a load run measured.
struct LoadResult: Sendable {
    /// Requests answered.
    var answered = 0
    /// Answers by status code.
    var statuses: [Int: Int] = [:]
    /// The sum of what `inspect` returned (e.g. events accepted).
    var tally = 0
    /// Seconds from the first connection attempt to the last answer.
    var seconds = 0.0
    /// Request latencies in milliseconds, sorted.
    var latenciesMs: [Double] = []
    /// Connection failures and unexpected closes.
    var errors: [String] = []

    var perSecond: Double { Double(answered) / max(seconds, 1e-9) }
    var p50Ms: Double { percentile(latenciesMs, 0.50) }
    var p99Ms: Double { percentile(latenciesMs, 0.99) }
    var maxMs: Double { latenciesMs.last ?? 0 }
    /// Answers with a status outside `expected`.
    func unexpected(_ expected: Set<Int>) -> Int {
        statuses.filter { !expected.contains($0.key) }.values.reduce(0, +)
    }
}

/// A closed-loop HTTP/1.1 load generator on SwiftNIO: `connections` keep-alive connections, each sending its next
/// request as soon as the previous answer ended, until `total` requests were sent. Every request can differ
/// (`request(index)` builds it), which `wrk` makes awkward, and every answer can be inspected.
enum HTTPLoad {
    static func run(
        host: String,
        port: Int,
        connections: Int,
        total: Int,
        threads: Int = 1,
        request: @escaping @Sendable (Int) -> LoadRequest,
        inspect: @escaping @Sendable (_ index: Int, _ status: Int, _ body: ByteBuffer) -> Int = { _, _, _ in 0 }
    ) async throws -> LoadResult {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let shared = LoadShared(total: total, host: "\(host):\(port)", request: request, inspect: inspect)
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(LoadConnection(shared: shared))
                }
            }
        let start = monotonicNanos()
        var channels: [any Channel] = []
        for _ in 0..<max(1, min(connections, total)) {
            do {
                channels.append(try await bootstrap.connect(host: host, port: port).get())
            } catch {
                shared.fail("connect: \(error)")
            }
        }
        for channel in channels { try? await channel.closeFuture.get() }
        try? await group.shutdownGracefully()
        var result = shared.result()
        result.seconds = Double(shared.lastAnswer() &- start) / 1e9
        result.latenciesMs.sort()
        return result
    }
}

/// State shared by the connections of one run.
final class LoadShared: Sendable {
    let total: Int
    let host: String
    let request: @Sendable (Int) -> LoadRequest
    let inspect: @Sendable (Int, Int, ByteBuffer) -> Int
    private let next = Atomic<Int>(0)
    private let last = Atomic<UInt64>(0)
    private let merged = Mutex(LoadResult())

    init(
        total: Int,
        host: String,
        request: @escaping @Sendable (Int) -> LoadRequest,
        inspect: @escaping @Sendable (Int, Int, ByteBuffer) -> Int
    ) {
        self.total = total
        self.host = host
        self.request = request
        self.inspect = inspect
    }

    /// The next request index, or nil once every request was handed out.
    func take() -> Int? {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return index < total ? index : nil
    }

    func answered(at nanos: UInt64) {
        _ = last.max(nanos, ordering: .relaxed)
    }

    func lastAnswer() -> UInt64 { last.load(ordering: .relaxed) }

    func merge(latenciesMs: [Double], statuses: [Int: Int], tally: Int) {
        merged.withLock { result in
            result.answered += latenciesMs.count
            result.latenciesMs.append(contentsOf: latenciesMs)
            result.statuses.merge(statuses, uniquingKeysWith: +)
            result.tally += tally
        }
    }

    func fail(_ error: String) {
        merged.withLock { result in
            if result.errors.count < 20 { result.errors.append(error) }
        }
    }

    func result() -> LoadResult { merged.withLock { $0 } }
}

/// One keep-alive connection: sends a request, reads its answer, sends the next.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let shared: LoadShared
    private var index = -1
    private var sentAt: UInt64 = 0
    private var status = 0
    private var body: ByteBuffer?
    private var latenciesMs: [Double] = []
    private var statuses: [Int: Int] = [:]
    private var tally = 0
    private var finished = false

    init(shared: LoadShared) {
        self.shared = shared
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body = nil
        case .body(var part):
            if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            let now = monotonicNanos()
            latenciesMs.append(Double(now &- sentAt) / 1e6)
            shared.answered(at: now)
            statuses[status, default: 0] += 1
            tally += shared.inspect(index, status, body ?? ByteBuffer())
            sendNext(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            shared.fail("connection closed by the server with request \(index) unanswered")
            finish(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        shared.fail("\(error)")
        finish(context)
    }

    private func sendNext(_ context: ChannelHandlerContext) {
        guard let next = shared.take() else {
            finish(context)
            return
        }
        index = next
        let request = shared.request(next)
        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri)
        head.headers.add(name: "Host", value: shared.host)
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        if !request.body.isEmpty || request.method == .POST || request.method == .PATCH {
            head.headers.add(name: "Content-Length", value: String(request.body.count))
        }
        sentAt = monotonicNanos()
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !request.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: request.body.count)
            buffer.writeBytes(request.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        shared.merge(latenciesMs: latenciesMs, statuses: statuses, tally: tally)
        context.close(promise: nil)
    }
}
