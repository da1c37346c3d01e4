import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// Counts every request by route template and status (`herald_http_requests_total{route,status}`), times it
/// (`herald_http_request_duration_seconds{route}`) through swift-metrics, and logs one line per refused or
/// failed request (debug for the rest). Labels are bounded: the route template, never the raw path.
public struct HTTPMetricsMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext
    let instruments = Instruments()

    public init() {}

    public func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let response = try await next(request, context)
        let elapsed = DispatchTime.now().uptimeNanoseconds &- start
        let route = Self.routeLabel(context.endpointPath)
        instruments.record(route: route, status: Int(response.status.code), nanoseconds: elapsed)
        let metadata: Logger.Metadata = [
            "http.method": .string(request.method.rawValue),
            "http.route": .string(route),
            "http.status": .stringConvertible(response.status.code),
            "duration_ms": .string(String(format: "%.2f", Double(elapsed) / 1_000_000)),
        ]
        if response.status.code >= 500 {
            context.logger.error("request", metadata: metadata)
        } else if response.status.code >= 400 {
            context.logger.info("request", metadata: metadata)
        } else {
            context.logger.debug("request", metadata: metadata)
        }
        return response
    }

    /// The route template, or `unmatched` for paths no route knows.
    static func routeLabel(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath.hasPrefix("/") else { return "unmatched" }
        return endpointPath
    }

    /// The counters and timers, made once per (route, status) and reused.
    final class Instruments: Sendable {
        private let counters = Mutex<[String: Counter]>([:])
        private let timers = Mutex<[String: Metrics.Timer]>([:])

        func record(route: String, status: Int, nanoseconds: UInt64) {
            let key = "\(route) \(status)"
            let counter = counters.withLock { counters in
                if let counter = counters[key] { return counter }
                let counter = Counter(
                    label: "herald_http_requests_total",
                    dimensions: [("route", route), ("status", String(status))]
                )
                counters[key] = counter
                return counter
            }
            counter.increment()
            let timer = timers.withLock { timers in
                if let timer = timers[route] { return timer }
                let timer = Metrics.Timer(
                    label: "herald_http_request_duration_seconds",
                    dimensions: [("route", route)],
                    preferredDisplayUnit: .seconds
                )
                timers[route] = timer
                return timer
            }
            timer.recordNanoseconds(Int64(clamping: nanoseconds))
        }
    }
}
