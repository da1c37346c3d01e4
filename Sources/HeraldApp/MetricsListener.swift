import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `server.metricsListen`: a listener of its own that serves only `GET /metrics` (unauthenticated, SPEC §11.5),
/// so Prometheus can scrape an address the API does not share.
struct MetricsListener: Service {
    let host: String
    let port: Int
    let logger: Logger
    /// Renders the exposition text.
    let render: @Sendable () -> String

    func run() async throws {
        let router = Router()
        let render = self.render
        router.get("/metrics") { _, _ -> Response in
            let text = render()
            return Response(
                status: .ok,
                headers: [.contentType: DaemonMetrics.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
        }
        let logger = self.logger
        let host = self.host
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "herald"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port.map(String.init) ?? "?"
                logger.info("metrics listening", metadata: ["address": "\(host):\(port)"])
            },
            logger: logger
        )
        try await app.run()
    }

    /// Splits `host:port` (`[::1]:9425` for IPv6); nil when it is not one.
    static func parse(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(address[address.index(after: colon)...]), (0...65_535).contains(port)
        else { return nil }
        return (host, port)
    }
}
