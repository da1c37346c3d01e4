import ServiceLifecycle
import Synchronization
import Testing

@testable import HeraldApp

/// `/readyz` says "worker running" only while every stage is inside its run loop.
@Suite struct WorkerLivenessTests {
    /// A stage that runs until released, then returns or throws.
    final class Stage: Service, Sendable {
        struct Failure: Error {}
        let entered = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Bool>.makeStream()

        func run() async throws {
            entered.continuation.yield()
            var iterator = release.stream.makeAsyncIterator()
            let fails = await iterator.next() ?? false
            if fails { throw Failure() }
        }
    }

    @Test(arguments: [false, true])
    func runningOnlyWhileEveryStageRuns(stageFails: Bool) async throws {
        let liveness = WorkerLiveness(stages: ["send", "fan-out"])
        let send = Stage()
        let fanOut = Stage()
        #expect(!liveness.allRunning)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await LivenessTrackedService(base: send, name: "send", liveness: liveness).run() }
            var entered = send.entered.stream.makeAsyncIterator()
            await entered.next()
            #expect(!liveness.allRunning, "only one of two stages runs")
            group.addTask {
                try? await LivenessTrackedService(base: fanOut, name: "fan-out", liveness: liveness).run()
            }
            var fanOutEntered = fanOut.entered.stream.makeAsyncIterator()
            await fanOutEntered.next()
            #expect(liveness.allRunning)
            send.release.continuation.yield(stageFails)
            var failed = false
            do { try await group.next() } catch { failed = true }
            #expect(failed == stageFails)
            #expect(!liveness.allRunning, "a stage that returned or failed is not running")
            fanOut.release.continuation.yield(false)
            while (try? await group.next()) != nil {}
        }
    }
}
