import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// `GET /healthz`, `GET /readyz`, `GET /metrics`, `GET /api/v1/openapi.json` — unauthenticated (SPEC §11.5).
public struct HealthRoutes: Sendable {
    let dependencies: APIDependencies
    /// Whether `/metrics` is served here (not when `server.metricsListen` has its own listener).
    let servesMetrics: Bool

    public init(dependencies: APIDependencies, servesMetrics: Bool = true) {
        self.dependencies = dependencies
        self.servesMetrics = servesMetrics
    }

    public func register(on router: Router<APIRequestContext>) {
        router.get("/healthz") { _, _ in
            APIResponse.json(value: .object(["status": .string("ok")]))
        }
        router.get("/readyz") { _, _ in try await readiness() }
        if servesMetrics {
            router.get("/metrics") { _, _ in Self.metricsResponse(dependencies.operations.metricsExposition()) }
        }
        router.get("/api/v1/openapi.json") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json))
            )
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    public static func metricsResponse(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    func readiness() async throws -> Response {
        var storeReachable = true
        do {
            _ = try await dependencies.store.directoryVersion()
        } catch {
            storeReachable = false
        }
        let worker = await dependencies.operations.readiness()
        let report = ReadinessReport(
            ready: storeReachable && worker.worker,
            store: storeReachable,
            worker: worker.worker,
            brokenDestinations: worker.broken,
            notConfigured: worker.notConfigured
        )
        if report.ready { return try APIResponse.json(report) }
        // Not ready: the §11 envelope naming what is wrong in `details`. Broken destinations are listed in
        // either case but do not make the daemon unready: every other destination still delivers.
        var details: [FieldError] = []
        if !storeReachable { details.append(FieldError(field: "store", message: "is not reachable")) }
        if !worker.worker { details.append(FieldError(field: "worker", message: "is not running")) }
        for destination in worker.broken {
            details.append(
                FieldError(
                    field: "notifiers[\(destination.notifier)]",
                    message: "destination \(destination.destination) is broken: \(destination.error ?? "unknown error")"
                )
            )
        }
        var headers = HTTPFields()
        headers[.retryAfter] = "5"
        throw APIError(.serviceUnavailable, .notReady, "not ready", details: details, headers: headers)
    }
}
