import Foundation
import HeraldAPI
import HeraldCore
import HeraldCurl
import HeraldWorker
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// Opens once the API's listener is bound, so `READY=1` is sent only then (SPEC §15).
public final class ListenerGate: Sendable {
    private let address = Mutex<(host: String, port: Int)?>(nil)

    public init() {}

    /// The bound address, once bound.
    public var boundAddress: (host: String, port: Int)? { address.withLock { $0 } }

    func open(host: String, port: Int) {
        address.withLock { $0 = (host, port) }
    }

    /// Waits until the listener is bound or the task is cancelled (graceful shutdown before start).
    func wait() async {
        while boundAddress == nil && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// The pieces of the HTTP API the daemon composes.
struct DaemonAPI {
    let dependencies: APIDependencies
    let services: [(service: any Service, name: String)]
    let gate: ListenerGate
}

extension Daemon {
    /// `host:port` of a `server.listen` value.
    static func parseListen(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// The API's authenticator from the `auth` section (validated before).
    static func makeAuthenticator(_ loaded: LoadedConfiguration, clock: any WallClock) throws -> APIAuthenticator {
        let auth = loaded.configuration.auth
        let tokens = (auth?.tokens ?? []).compactMap { token in
            APITokenEntry(
                name: token.name,
                sha256Hex: token.sha256,
                scopes: Set(token.scopes.compactMap(APIScope.init(rawValue:)))
            )
        }
        let jwt = JWTSettings(
            hs256Secret: loaded.secret("auth.jwt.hs256Secret").map { Array($0.utf8) },
            ed25519PublicKey: loaded.secret("auth.jwt.ed25519PublicKey"),
            issuer: auth?.jwt?.issuer,
            audience: auth?.jwt?.audience
        )
        return try APIAuthenticator(tokens: tokens, jwt: jwt, clock: clock)
    }

    /// Each notifier's health from its destinations held back (the worst state wins; `until` is the latest
    /// time of that state) and the notifiers left out for a missing secret. Absent notifiers are `ok`.
    static func notifierHealth(
        _ destinations: [DestinationHealth],
        notConfigured: [NotConfiguredNotifier]
    ) -> [Int: NotifierHealth] {
        var health: [Int: NotifierHealth] = [:]
        for (notifier, held) in Dictionary(grouping: destinations, by: \.notifier) {
            guard let worst = held.map(\.state).max() else { continue }
            let ofWorst = held.filter { $0.state == worst }
            let example = ofWorst.first { $0.lastError != nil } ?? ofWorst[0]
            health[notifier] = NotifierHealth(
                state: worst.name,
                until: ofWorst.compactMap(\.until).max(),
                lastError: example.lastError.map { "destination \(example.label): \($0)" },
                destinations: held.count
            )
        }
        for notifier in notConfigured {
            health[notifier.id] = NotifierHealth(
                state: "notConfigured",
                lastError: "secret not set: \(notifier.missingSecrets.joined(separator: ", "))"
            )
        }
        return health
    }

    /// The API's dependencies and services when `server.listen` is set (none otherwise).
    static func buildAPI(
        loaded: LoadedConfiguration,
        store: any Store,
        catalog: RuntimeCatalog,
        fanOut: FanOutStage,
        send: SendStage,
        providers: ProviderSet,
        logger: Logger,
        clock: any WallClock,
        metricsText: @escaping @Sendable () -> String,
        transport: CurlTransport,
        liveness: WorkerLiveness,
        links: LinkSigner? = nil
    ) throws -> DaemonAPI? {
        let notConfigured = loaded.notConfigured
        let configuration = loaded.configuration
        guard let listen = configuration.server?.listen, let address = parseListen(listen) else { return nil }
        let notifiers = configuration.notifiers.compactMap { section in
            Channel(rawValue: section.channel).map {
                NotifierDescription(id: section.id, name: section.name, channel: $0)
            }
        }
        let operations = APIOperations(
            readiness: {
                let broken = send.destinationHealth().filter { $0.state == .broken }.map {
                    ReadinessReport.Destination(notifier: $0.notifier, destination: $0.label, error: $0.lastError)
                }
                return (worker: liveness.allRunning, broken: broken, notConfigured: notConfigured.map(\.id))
            },
            notifierHealth: {
                Daemon.notifierHealth(send.destinationHealth(), notConfigured: notConfigured)
            },
            sendTest: { id, address in
                guard let provider = providers.provider(id: id) else {
                    throw APIError.notFound("notifier")
                }
                let timed = TimeoutApplyingTransport(
                    base: transport,
                    connectTimeout: configuration.worker.connectTimeoutSeconds,
                    totalTimeout: configuration.worker.requestTimeoutSeconds
                )
                let outcome = await Commands.sendTestMessage(
                    provider: provider,
                    to: address,
                    configuration: configuration,
                    http: timed,
                    mail: transport
                )
                switch outcome {
                case .delivered(let receipt): return NotifierTestResult(outcome: "delivered", receipt: receipt)
                case .failed(let error):
                    return NotifierTestResult(
                        outcome: error.isRetryable ? "retry" : "permanent",
                        reason: error.reason.rawValue,
                        status: error.status,
                        detail: error.detail
                    )
                case .notRendered(let message):
                    return NotifierTestResult(outcome: "permanent", reason: "invalidPayload", detail: message)
                }
            },
            metricsExposition: metricsText,
            catalogChanged: { catalog in
                fanOut.replacePlanner(
                    Daemon.planner(loaded, providers: providers, catalog: catalog, links: links, clock: clock)
                )
            }
        )
        var dependencies = APIDependencies(
            store: store,
            catalog: catalog,
            authenticator: try makeAuthenticator(loaded, clock: clock),
            clock: clock,
            limits: APILimits(
                maxBodyBytes: configuration.server?.maxBodyBytes ?? 262_144,
                preferencesPerMinute: configuration.auth?.preferencesPerMinute ?? 60
            ),
            notifiers: notifiers,
            operations: operations,
            logger: logger,
            linkSigner: links
        )
        dependencies.otp = makeOTPService(loaded, store: store, send: send, clock: clock, logger: logger)
        let gate = ListenerGate()
        // `/metrics` is served here unless `server.metricsListen` gives it a listener of its own.
        let application = APIApplication.buildApplication(
            dependencies,
            host: address.host,
            port: address.port,
            servesMetrics: configuration.server?.metricsListen == nil,
            onListening: { host, port in
                gate.open(host: host, port: port)
                logger.info("api listening", metadata: ["address": "\(host):\(port)"])
            }
        )
        let services: [(service: any Service, name: String)] = [(application, "api")]
        return DaemonAPI(dependencies: dependencies, services: services, gate: gate)
    }
}
