import Foundation
import HeraldAPI
import HeraldCore
import HeraldCurl
import HeraldPostgres
import HeraldSQLite
import HeraldWorker
import Logging
import Metrics
import ServiceLifecycle

/// The running parts of a daemon, built by `buildServices` from a configuration; `main` and tests build the
/// same graph.
public final class DaemonComponents: Sendable {
    public let store: any Store
    public let transport: CurlTransport
    public let fanOut: FanOutStage
    public let send: SendStage
    public let counters: WorkerCounters
    public let logger: Logger
    /// What `/metrics` shows.
    public let metrics: DaemonMetrics
    /// The Prometheus text exposition of this daemon, gauges refreshed (`GET /metrics`).
    public let metricsText: @Sendable () -> String
    /// The HTTP API's dependencies and listener, when `server.listen` is configured.
    public let api: APIDependencies?
    public let listener: ListenerGate?
    let services: [ServiceGroupConfiguration.ServiceConfiguration]

    init(
        store: any Store,
        transport: CurlTransport,
        fanOut: FanOutStage,
        send: SendStage,
        counters: WorkerCounters,
        logger: Logger,
        metrics: DaemonMetrics,
        metricsText: @escaping @Sendable () -> String,
        api: APIDependencies? = nil,
        listener: ListenerGate? = nil,
        services: [ServiceGroupConfiguration.ServiceConfiguration]
    ) {
        self.store = store
        self.transport = transport
        self.fanOut = fanOut
        self.send = send
        self.counters = counters
        self.logger = logger
        self.metrics = metrics
        self.metricsText = metricsText
        self.api = api
        self.listener = listener
        self.services = services
    }
}

/// What a SIGHUP changes in a running daemon: notifiers, catalog, secrets and log level.
struct ConfigurationReloader: Sendable {
    let fanOut: FanOutStage
    let send: SendStage
    let catalog: RuntimeCatalog
    let logLevel: LogLevelBox
    let output: LogOutput
    let logger: Logger
    /// The store, when it validates events itself (the PostgreSQL outbox validates with the catalog).
    var postgres: PostgresStore?
    /// The links of Herald's own pages, fixed at start: the pages check them with the same key.
    var links: LinkSigner?
    var clock: any WallClock = SystemWallClock()

    /// Re-reads the configuration file; an invalid file is refused with every problem logged, and the running
    /// configuration stays.
    func reload(path: String) {
        do {
            let loaded = try ConfigurationLoader.load(path: path)
            let providers = try ProviderFactory.makeProviders(loaded)
            output.setSecrets(loaded.secretValues)
            Daemon.logNotConfigured(loaded, logger: logger)
            send.replaceProviders(providers)
            let catalog = catalog.replace(base: loaded.catalog)
            fanOut.replacePlanner(
                Daemon.planner(loaded, providers: providers, catalog: catalog, links: links, clock: clock)
            )
            postgres?.replaceIntake(EventIntake(catalog: catalog))
            if let level = Logger.Level(rawValue: loaded.configuration.log.level) { logLevel.value = level }
            logger.info("configuration reloaded", metadata: ["notifiers": "\(providers.all.count)"])
        } catch {
            for problem in error.problems {
                logger.error(
                    "configuration reload refused; keeping the running configuration",
                    metadata: ["field": "\(problem.field)", "error": "\(problem.message)"]
                )
            }
        }
    }
}

/// Composition root of `herald serve`.
public enum Daemon {
    /// The fan-out planner for a configuration.
    static func planner(
        _ loaded: LoadedConfiguration,
        providers: ProviderSet,
        catalog: Catalog? = nil,
        links: LinkSigner?,
        clock: any WallClock
    ) -> FanOutPlanner {
        FanOutPlanner(
            catalog: catalog ?? loaded.catalog,
            providers: providers,
            audience: DirectoryAudience(
                fallthroughLimit: loaded.configuration.worker.fallthroughLimit,
                afterReload: { MemoryTuning.trim() }
            ),
            settingsURLTemplate: loaded.configuration.links.settingsURL,
            subjectPrefix: loaded.configuration.email.subjectPrefix,
            links: links,
            clock: clock
        )
    }

    /// The signer of the links to Herald's own pages (SPEC §11.7), when `links.publicURL` and the link secret are
    /// both set; nil turns the pages off and leaves `List-Unsubscribe` out of emails.
    static func linkSigner(_ loaded: LoadedConfiguration) -> LinkSigner? {
        guard let publicURL = loaded.configuration.links.publicURL, let secret = loaded.secret("auth.linkSecret")
        else { return nil }
        return LinkSigner(secret: Data(secret.utf8), publicURL: publicURL)
    }

    /// Opens the store named by the configuration and applies migrations. The command line's SQLite stores
    /// announce their writes to a running daemon (`announcesWrites`); the daemon's own does not, so it never
    /// wakes itself.
    /// Opens the configured store. The daemon's own (`announcesWrites: false`) also checkpoints SQLite's log in
    /// the background.
    public static func openStore(_ loaded: LoadedConfiguration, announcesWrites: Bool = true) async throws -> any Store
    {
        if let postgres = loaded.configuration.store.postgres {
            let store = try PostgresStore(
                options: PostgresStoreOptions(
                    url: postgres.url,
                    password: loaded.secret("store.postgres.password"),
                    poolSize: postgres.poolSize ?? 8,
                    pollMilliseconds: postgres.pollMilliseconds ?? 250,
                    listen: postgres.listen ?? true
                ),
                intake: EventIntake(
                    catalog: loaded.catalog,
                    notifiers: Commands.notifierChannels(loaded.configuration)
                ),
                logger: Logger(label: "herald.postgres")
            )
            do {
                try await store.migrate()
            } catch {
                try? await store.close()
                throw error
            }
            return store
        }
        guard let sqlite = loaded.configuration.store.sqlite else {
            throw ConfigurationError(problems: [FieldError(field: "store", message: "no supported store configured")])
        }
        let store = try SQLiteStore(
            path: loaded.configuration.resolvePath(sqlite.path),
            busyTimeout: sqlite.busyTimeoutSeconds ?? 5,
            announcesWrites: announcesWrites,
            checkpointsInBackground: !announcesWrites
        )
        try await store.migrate()
        return store
    }

    /// Builds every service of the daemon over an open store.
    public static func buildServices(
        loaded: LoadedConfiguration,
        configPath: String,
        store: any Store,
        output: LogOutput,
        clock: any WallClock = SystemWallClock(),
        notifier: SystemdNotifier = SystemdNotifier(),
        statsInterval: Duration = .seconds(60),
        metrics: DaemonMetrics = DaemonMetrics(),
        metricsRefresh: Duration = .seconds(5),
        storedCatalog: [CatalogEntry] = []
    ) throws -> DaemonComponents {
        let configuration = loaded.configuration
        let level = LogLevelBox(Logger.Level(rawValue: configuration.log.level) ?? .info)
        let logger = makeLogger(label: "herald", configuration: configuration, level: level, output: output)
        output.setSecrets(loaded.secretValues)
        let providers = try ProviderFactory.makeProviders(loaded)
        logNotConfigured(loaded, logger: logger)
        let links = linkSigner(loaded)
        if links == nil, configuration.links.publicURL != nil {
            logger.warning(
                "one-click unsubscribe and the preference center are off: the link secret is absent",
                metadata: ["field": "auth.linkSecret"]
            )
        }
        let catalog = RuntimeCatalog(base: loaded.catalog, added: storedCatalog)
        let transport = CurlTransport(maxHostConnections: configuration.worker.maxHostConnections)
        let counters = WorkerCounters(metrics: metrics.worker)
        let sendDoorbell = Doorbell()
        let worker = configuration.worker
        let send = SendStage(
            store: store,
            providers: providers,
            http: TimeoutApplyingTransport(
                base: transport,
                connectTimeout: worker.connectTimeoutSeconds,
                totalTimeout: worker.requestTimeoutSeconds
            ),
            mail: transport,
            clock: clock,
            configuration: SendConfiguration(
                concurrency: worker.concurrency,
                batchSize: worker.batchSize,
                leaseDuration: worker.leaseSeconds,
                // On PostgreSQL, other instances' work arrives by NOTIFY or by this poll (SPEC §13 rule 4).
                idlePoll: configuration.store.postgres.map { .milliseconds($0.pollMilliseconds ?? 250) } ?? .seconds(1),
                shutdownDeadline: .milliseconds(Int64(worker.shutdownSeconds * 1000))
            ),
            logger: logger,
            doorbell: sendDoorbell,
            counters: counters
        )
        let fanOut = FanOutStage(
            store: store,
            planner: planner(loaded, providers: providers, catalog: catalog.current, links: links, clock: clock),
            clock: clock,
            configuration: FanOutConfiguration(
                batchSize: worker.batchSize,
                leaseDuration: worker.leaseSeconds,
                idlePoll: .microseconds(Int64(worker.pollMilliseconds * 1000))
            ),
            logger: logger,
            sendDoorbell: sendDoorbell,
            counters: counters
        )

        func entry(_ service: any Service, _ name: String) -> ServiceGroupConfiguration.ServiceConfiguration {
            // A stage that returns has finished its shutdown work: the group shuts down gracefully, never cancels.
            ServiceGroupConfiguration.ServiceConfiguration(
                service: service,
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup,
                serviceName: name
            )
        }
        typealias Entry = ServiceGroupConfiguration.ServiceConfiguration
        var services: [Entry] = []
        if let interval = notifier.watchdogInterval {
            services.append(
                entry(WatchdogService(notifier: notifier, interval: interval), "watchdog")
            )
        }
        let liveness = WorkerLiveness(stages: ["send", "fan-out"])
        services.append(entry(LivenessTrackedService(base: send, name: "send", liveness: liveness), "send"))
        services.append(entry(LivenessTrackedService(base: fanOut, name: "fan-out", liveness: liveness), "fan-out"))
        services.append(
            entry(
                MaintenanceService(
                    store: store,
                    counters: counters,
                    retention: loaded.retention,
                    logger: logger,
                    clock: clock,
                    statsInterval: statsInterval
                ),
                "maintenance"
            )
        )
        services.append(entry(MemoryTrimService(counters: counters), "memory-trim"))
        let reloader = ConfigurationReloader(
            fanOut: fanOut,
            send: send,
            catalog: catalog,
            logLevel: level,
            output: output,
            logger: logger,
            postgres: store as? PostgresStore,
            links: links,
            clock: clock
        )
        services.append(entry(ReloadService(path: configPath, reloader: reloader), "reload"))
        services.append(
            entry(
                QueueGaugeService(metrics: metrics, store: store, clock: clock, interval: metricsRefresh),
                "queue-gauges"
            )
        )
        let metricsText: @Sendable () -> String = { metrics.render(destinations: send.destinationCensus()) }
        if let address = configuration.server?.metricsListen.flatMap(MetricsListener.parse) {
            let listener = MetricsListener(host: address.host, port: address.port, logger: logger, render: metricsText)
            services.append(entry(listener, "metrics"))
        }
        // The API after the stages and before the readiness announcer: it stops accepting first on SIGTERM.
        let api = try buildAPI(
            loaded: loaded,
            store: store,
            catalog: catalog,
            fanOut: fanOut,
            send: send,
            providers: providers,
            logger: logger,
            clock: clock,
            metricsText: metricsText,
            transport: transport,
            liveness: liveness,
            links: links
        )
        for service in api?.services ?? [] { services.append(entry(service.service, service.name)) }
        services.append(
            entry(
                ReadinessService(
                    notifier: notifier,
                    logger: logger,
                    status: "delivering with \(providers.all.count) notifiers",
                    listener: api?.gate
                ),
                "readiness"
            )
        )
        return DaemonComponents(
            store: store,
            transport: transport,
            fanOut: fanOut,
            send: send,
            counters: counters,
            logger: logger,
            metrics: metrics,
            metricsText: metricsText,
            api: api?.dependencies,
            listener: api?.gate,
            services: services
        )
    }

    /// One warning per notifier left out because a secret it names is absent.
    static func logNotConfigured(_ loaded: LoadedConfiguration, logger: Logger) {
        for notifier in loaded.notConfigured {
            logger.warning(
                "notifier not configured: a secret it names is absent",
                metadata: [
                    "notifier": "\(notifier.name)", "channel": "\(notifier.channel.rawValue)",
                    "missing": "\(notifier.missingSecrets.joined(separator: ","))",
                ]
            )
        }
    }

    /// A logger writing in the configured format.
    static func makeLogger(
        label: String,
        configuration: HeraldConfiguration,
        level: LogLevelBox,
        output: LogOutput
    )
        -> Logger
    {
        let format = HeraldLogHandler.Format(rawValue: configuration.log.format) ?? .logfmt
        let journald = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        return Logger(label: label) { label in
            HeraldLogHandler(label: label, level: level, format: format, output: output, includeTimestamp: !journald)
        }
    }

    /// Runs `herald serve` until SIGTERM/SIGINT; returns the process exit code.
    public static func serve(configPath: String) async -> Int32 {
        MemoryTuning.apply()
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigurationLoader.load(path: configPath)
        } catch {
            CommandOutput.failure("invalid configuration \(configPath): \(error.problems.first.map { "\($0)" } ?? "")")
            for problem in error.problems.dropFirst() { CommandOutput.error("  \(problem)") }
            return 2
        }
        let output = LogOutput.standardOutput(secrets: loaded.secretValues)
        let store: any Store
        do {
            store = try await openStore(loaded, announcesWrites: false)
        } catch {
            CommandOutput.failure("cannot open the store: \(error)")
            return 1
        }
        // The one process-wide metrics backend (what libraries record through swift-metrics lands in the same
        // registry as the daemon's own handles); `serve` runs once per process.
        let metrics = DaemonMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        let components: DaemonComponents
        do {
            components = try buildServices(
                loaded: loaded,
                configPath: configPath,
                store: store,
                output: output,
                metrics: metrics,
                storedCatalog: try await store.storedCatalogEntries()
            )
        } catch {
            CommandOutput.failure("\(error)")
            return 2
        }
        let logger = components.logger
        // Wake the stages when another process (herald enqueue, herald deliveries retry) announces a write.
        let watcher = loaded.configuration.store.sqlite.flatMap { sqlite in
            SQLiteChangeWatcher(databasePath: loaded.configuration.resolvePath(sqlite.path)) {
                [fanOut = components.fanOut, send = components.send] in
                fanOut.doorbell.ring()
                send.doorbell.ring()
            }
        }
        if let postgres = store as? PostgresStore {
            // The instance registry (SPEC §13 rule 3) and the NOTIFY hints (rule 4); polling stays on regardless.
            do {
                try await postgres.register()
            } catch {
                logger.warning("registering the instance failed", metadata: ["error": "\(error)"])
            }
            postgres.listen { [fanOut = components.fanOut, send = components.send] hint in
                switch hint {
                case .events, .directory: fanOut.doorbell.ring()
                case .deliveries: send.doorbell.ring()
                }
            }
            logger.info(
                "store: postgresql",
                metadata: ["instance": "\(postgres.instanceId)", "listen": "\(postgres.listening)"]
            )
        } else if watcher == nil {
            logger.warning("no change notification for the database; relying on polling")
        }
        logger.info(
            "herald starting",
            metadata: ["version": "\(HeraldVersion.current)", "config": "\(configPath)", "pid": "\(getpid())"]
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: components.services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        var exitCode: Int32 = 0
        do {
            try await group.run()
        } catch {
            logger.error("service group failed", metadata: ["error": "\(error)"])
            exitCode = 1
        }
        watcher?.stop()
        components.transport.shutdown()
        do {
            try await store.close()
        } catch {
            logger.error("closing the store failed", metadata: ["error": "\(error)"])
        }
        logger.info("herald stopped")
        return exitCode
    }
}

/// Applies the configured per-attempt timeouts to every request.
struct TimeoutApplyingTransport: HTTPTransport {
    let base: any HTTPTransport
    let connectTimeout: TimeInterval
    let totalTimeout: TimeInterval

    func send(_ request: HTTPRequest) async -> TransportResult {
        await base.send(applied(request))
    }

    func start(_ request: HTTPRequest, completion: @escaping @Sendable (TransportResult) -> Void) {
        base.start(applied(request), completion: completion)
    }

    private func applied(_ request: HTTPRequest) -> HTTPRequest {
        var request = request
        request.connectTimeout = connectTimeout
        request.totalTimeout = totalTimeout
        return request
    }
}
