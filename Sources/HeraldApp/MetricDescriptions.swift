import HeraldWorker

/// The metrics of SPEC §15 with their help text and histogram buckets, in one table so the exposition, the
/// dashboard check and the README agree.
public enum MetricDescriptions {
    public static let queueDepth = "herald_queue_depth"
    public static let oldestDue = "herald_oldest_due_seconds"
    public static let destinations = "herald_destinations"
    public static let buildInfo = "herald_build_info"
    /// Recorded by the API's middleware.
    public static let httpRequests = "herald_http_requests_total"
    /// Recorded by the API's middleware.
    public static let httpDuration = "herald_http_request_duration_seconds"

    /// Help text by metric name.
    public static let help: [String: String] = [
        WorkerMetrics.Name.events: "Events fanned out, by catalog key (unknown for a key the catalog lacks).",
        WorkerMetrics.Name.deliveries:
            "Deliveries by outcome, counted once per delivery and outcome: delivered or dead when settled, "
            + "retry when it first needed another attempt (reason of that failure).",
        WorkerMetrics.Name.attempts: "Transfers started, including retries.",
        WorkerMetrics.Name.latency: "Time from an event's acceptance to its delivery's acceptance by the provider.",
        WorkerMetrics.Name.suppressions: "Candidates left out of an audience, by reason.",
        WorkerMetrics.Name.truncations: "Rendered payloads cut to a channel's size limits.",
        queueDepth: "Deliveries not yet settled, by state.",
        oldestDue: "How long the oldest due delivery has been waiting past its due time (0 when none).",
        destinations: "Destinations held back: paused by Retry-After, circuit open, or broken.",
        buildInfo: "Always 1; the version label says which Herald runs.",
        httpRequests: "HTTP API requests by route template and status code.",
        httpDuration: "HTTP API request handling time by route template.",
        ProcessMetrics.Name.residentMemory: "Resident memory size in bytes.",
        ProcessMetrics.Name.virtualMemory: "Virtual memory size in bytes.",
        ProcessMetrics.Name.cpuSeconds: "User and system CPU time spent, in seconds.",
        ProcessMetrics.Name.openFDs: "Open file descriptors.",
        ProcessMetrics.Name.maxFDs: "The limit on open file descriptors.",
        ProcessMetrics.Name.startTime: "Start time of the process since the Unix epoch, in seconds.",
    ]

    /// The help text of `name`; a metric a library records through swift-metrics gets a generic one.
    public static func help(for name: String) -> String {
        help[name] ?? "\(name), recorded through swift-metrics."
    }

    /// Intake to delivery: milliseconds when things flow (SPEC §16: p99 ≤ 10 ms) to an hour of retries.
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        .seconds(1800), .seconds(3600),
    ]

    /// API handling time: sub-millisecond reads to slow writes.
    static let httpBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]

    /// Buckets of a value histogram recorded through swift-metrics (`Recorder` with aggregation).
    static let valueBuckets: [Double] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

    /// The buckets of the timer `name`.
    static func durationBuckets(for name: String) -> [Duration] {
        switch name {
        case WorkerMetrics.Name.latency: latencyBuckets
        default: httpBuckets
        }
    }
}
