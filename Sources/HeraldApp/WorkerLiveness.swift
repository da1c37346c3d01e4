import ServiceLifecycle
import Synchronization

/// Which worker stages are inside their run loops, for `/readyz` ("worker running", SPEC §11.5): false before
/// the stages start, and again once any of them has returned or failed (shutdown, or a crash of the stage).
public final class WorkerLiveness: Sendable {
    private let running = Mutex<Set<String>>([])
    private let expected: Set<String>

    public init(stages: Set<String>) {
        self.expected = stages
    }

    /// True while every expected stage runs.
    public var allRunning: Bool { running.withLock { expected.isSubset(of: $0) } }

    func started(_ stage: String) { _ = running.withLock { $0.insert(stage) } }
    func stopped(_ stage: String) { _ = running.withLock { $0.remove(stage) } }
}

/// Runs a stage and records in `liveness` while it runs.
struct LivenessTrackedService: Service {
    let base: any Service
    let name: String
    let liveness: WorkerLiveness

    func run() async throws {
        liveness.started(name)
        defer { liveness.stopped(name) }
        try await base.run()
    }
}
