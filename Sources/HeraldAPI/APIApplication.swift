import HeraldCore
import Hummingbird
import Logging

/// Builds the API's router and application. `main` (through HeraldApp) and the tests call the same functions.
public enum APIApplication {
    /// The router with every route and the middleware chain: request id → metrics and logging → error
    /// envelope → authentication (→ rate limit on the preference routes).
    ///
    /// Other route groups join through `extraRoutes` (each registers its routes on the router; they get the same
    /// middleware, context and auth).
    public static func buildRouter(
        _ dependencies: APIDependencies,
        servesMetrics: Bool = true,
        extraRoutes: [@Sendable (Router<APIRequestContext>, APIDependencies) -> Void] = []
    ) -> (router: Router<APIRequestContext>, routes: RouteTable) {
        let router = Router(context: APIRequestContext.self)
        let table = RouteTable()
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ErrorEnvelopeMiddleware(routes: table))
        router.add(middleware: AuthenticationMiddleware(authenticator: dependencies.authenticator))
        HealthRoutes(dependencies: dependencies, servesMetrics: servesMetrics).register(on: router)
        EventRoutes(dependencies: dependencies).register(on: router)
        DirectoryRoutes(dependencies: dependencies).register(on: router)
        PreferenceRoutes(dependencies: dependencies).register(on: router)
        ProjectSettingsRoutes(dependencies: dependencies).register(on: router)
        OperationsRoutes(dependencies: dependencies).register(on: router)
        OTPRoutes(dependencies: dependencies).register(on: router)
        UserPageRoutes(dependencies: dependencies).register(on: router)
        for register in extraRoutes { register(router, dependencies) }
        table.fill(from: router)
        return (router, table)
    }

    /// The application listening on `host:port` (port 0 picks a free one; `onListening` learns which).
    public static func buildApplication(
        _ dependencies: APIDependencies,
        host: String,
        port: Int,
        servesMetrics: Bool = true,
        extraRoutes: [@Sendable (Router<APIRequestContext>, APIDependencies) -> Void] = [],
        onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) -> some ApplicationProtocol {
        let (router, _) = buildRouter(dependencies, servesMetrics: servesMetrics, extraRoutes: extraRoutes)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let address = channel.localAddress
                await onListening(address?.ipAddress ?? host, address?.port ?? port)
            },
            logger: dependencies.logger
        )
    }
}
