import Foundation
import HeraldCore
import HeraldTesting
import Metrics
import MetricsTestKit
import Synchronization
import Testing

@testable import HeraldWorker

@Suite("Worker metrics: one count per delivery outcome, attempts apart", .serialized)
struct WorkerMetricsTests {
    /// The worker's handles recording into a test factory, with the counters the stages share.
    struct Recorded {
        let factory = TestMetrics()
        let counters: WorkerCounters

        init() {
            counters = WorkerCounters(metrics: WorkerMetrics(factory: factory))
        }

        func deliveries(_ outcome: String, _ reason: String, channel: String = "webhook") -> Int64 {
            factory.counterTotal(
                label: WorkerMetrics.Name.deliveries,
                dimensions: [("channel", channel), ("outcome", outcome), ("reason", reason)]
            )
        }

        func attempts(_ channel: String = "webhook") -> Int64 {
            factory.counterTotal(label: WorkerMetrics.Name.attempts, dimensions: [("channel", channel)])
        }

        func latencies(_ channel: String = "webhook") throws -> [Int64] {
            try factory.expectTimer(WorkerMetrics.Name.latency, [("channel", channel)]).values
        }
    }

    @Test func aDeliveryThatFailsTwiceThenSucceedsCountsOneDeliveredOneRetryAndThreeAttempts() async throws {
        let recorded = Recorded()
        let answered = Mutex(0)
        let harness = try await SendHarness(counters: recorded.counters) { _ in
            let number = answered.withLock { count -> Int in
                count += 1
                return count
            }
            return number <= 2 ? .status(500, body: "boom") : .ok
        }
        try await harness.enqueue(1)
        harness.clock.advance(by: 0.25)
        for _ in 0..<3 {
            try await harness.step()
            harness.clock.advance(by: 600)
        }
        let delivery = try #require(try await harness.deliveries().first)
        #expect(delivery.state == .delivered)
        #expect(delivery.attempts == 3)
        #expect(recorded.deliveries("delivered", WorkerMetrics.noReason) == 1)
        #expect(recorded.deliveries("retry", FailureReason.serverError.rawValue) == 1)
        #expect(recorded.deliveries("dead", FailureReason.serverError.rawValue) == 0)
        #expect(recorded.attempts() == 3)
        // Intake to delivery on the injected clock: 0.25 s plus the two 600 s waits.
        let latencies = try recorded.latencies()
        #expect(latencies.count == 1)
        #expect(latencies.allSatisfy { abs(Double($0) / 1e9 - 1_200.25) < 0.001 }, "\(latencies)")
        try await harness.shutdown()
    }

    @Test func aDeadLetterCountsOnceWithItsReason() async throws {
        let recorded = Recorded()
        let harness = try await SendHarness(
            limits: RetryLimits(maxAttempts: 3, maxAge: 3600),
            counters: recorded.counters
        ) { _ in .status(503, body: "busy") }
        try await harness.enqueue(1)
        for _ in 0..<3 {
            try await harness.step()
            harness.clock.advance(by: 600)
        }
        #expect(try await harness.deliveries().first?.state == .dead)
        #expect(recorded.deliveries("retry", "serverError") == 1)
        #expect(recorded.deliveries("dead", "serverError") == 1)
        #expect(recorded.deliveries("delivered", WorkerMetrics.noReason) == 0)
        #expect(recorded.attempts() == 3)
        #expect(try recorded.latencies().isEmpty)
        try await harness.shutdown()
    }

    @Test func aPermanentFailureIsOneDeadAndNoRetry() async throws {
        let recorded = Recorded()
        let harness = try await SendHarness(counters: recorded.counters) { _ in .status(400, body: "bad") }
        try await harness.enqueue(2)
        try await harness.step()
        #expect(recorded.deliveries("dead", "clientError") == 2)
        #expect(recorded.factory.counterTotal(label: WorkerMetrics.Name.deliveries) == 2)
        #expect(recorded.attempts() == 2)
        try await harness.shutdown()
    }

    @Test func fanOutCountsEventsByCatalogKey() async throws {
        let recorded = Recorded()
        let harness = try await SendHarness(counters: recorded.counters) { _ in .ok }
        try await harness.enqueue(3)
        #expect(recorded.factory.counterTotal(label: WorkerMetrics.Name.events, dimensions: [("key", "notice")]) == 3)
        #expect(
            recorded.factory.counterTotal(
                label: WorkerMetrics.Name.events,
                dimensions: [("key", WorkerMetrics.unknownKey)]
            ) == 0
        )
        try await harness.shutdown()
    }

    @Test func suppressionsAndUnknownKeysAreCountedWithBoundedLabels() throws {
        let recorded = Recorded()
        let catalog = Catalog(custom: [
            CatalogEntry(key: "notice", type: NotificationType("test"), description: "Notice", defaults: [:])
        ])
        let reasons =
            Array(repeating: SuppressionReason.fallthroughLimit, count: 5_000) + [
                SuppressionReason.noAddress(.sms), SuppressionReason.noAddress(.email),
                "address_suppressed:STOP received",
                SuppressionReason.preferenceNever, "no_notifier:7", SuppressionReason.fallthroughLimit,
            ]
        let results = [
            FanOutResult(
                eventId: "e1",
                deliveries: [],
                suppressions: reasons.map { Suppression(eventId: "e1", recipient: "user:u", channel: nil, reason: $0) }
            )
        ]
        recorded.counters.metrics.fannedOut(results, keys: ["notice", "made_up", "notice"], catalog: catalog)
        func suppressed(_ reason: SuppressionMetricReason) -> Int64 {
            recorded.factory.counterTotal(
                label: WorkerMetrics.Name.suppressions,
                dimensions: [("reason", reason.rawValue)]
            )
        }
        #expect(suppressed(.fallthroughLimit) == 5_001)
        #expect(suppressed(.noAddress) == 2)
        #expect(suppressed(.addressSuppressed) == 1)
        #expect(suppressed(.preferenceNever) == 1)
        #expect(suppressed(.noNotifier) == 1)
        #expect(recorded.factory.counterTotal(label: WorkerMetrics.Name.events, dimensions: [("key", "notice")]) == 2)
        #expect(
            recorded.factory.counterTotal(label: WorkerMetrics.Name.events, dimensions: [("key", "unknown")]) == 1
        )
        // Every label value comes from the closed set.
        let labels = Set(
            recorded.factory.counters(label: WorkerMetrics.Name.suppressions).flatMap { $0.dimensions.map(\.1) }
        )
        #expect(labels.isSubset(of: Set(SuppressionMetricReason.allCases.map(\.rawValue))))
    }

    @Test(
        arguments: [
            (SuppressionReason.preferenceNever, SuppressionMetricReason.preferenceNever),
            (SuppressionReason.preferenceSubscribeOnly, .preferenceSubscribeOnly),
            (SuppressionReason.preferenceCommittedOnly, .preferenceCommittedOnly),
            ("preference:sometimes", .other),
            (SuppressionReason.actorExcluded, .actorExcluded),
            (SuppressionReason.unsubscribed, .unsubscribed),
            (SuppressionReason.fallthroughLimit, .fallthroughLimit),
            (SuppressionReason.notProjectMember, .notProjectMember),
            (SuppressionReason.inactiveMember, .inactiveMember),
            (SuppressionReason.notProjectTeam, .notProjectTeam),
            (SuppressionReason.unknownRecipient, .unknownRecipient),
            (SuppressionReason.noAddress(.msteams), .noAddress),
            ("address_suppressed:21610 unsubscribed", .addressSuppressed),
            ("no_notifier:sms", .noNotifier),
            ("unknown_key", .unknownKey),
            ("unknown_user", .unknownUser),
            ("unknown_team", .unknownTeam),
            ("render_failed", .renderFailed),
            ("something_new", .other),
            ("", .other),
        ]
    )
    func suppressionReasonsMapToAClosedSet(recorded: String, label: SuppressionMetricReason) {
        #expect(SuppressionMetricReason(recorded: recorded) == label)
    }

    /// A reason added to `SuppressionReason` or fan-out without a label here would be counted as `other`.
    @Test func everyReasonFanOutRecordsHasItsOwnLabel() throws {
        let sources = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        let files = [
            ("HeraldCore/Participants/AudiencePlan.swift", #"static let \w+ = "([^"]+)""#),
            ("HeraldCore/Participants/AudiencePlan.swift", #"-> String \{ "([a-z_]+):"#),
            ("HeraldWorker/FanOutPlanner.swift", #"reason: "([a-z_]+)"#),
            ("HeraldWorker/FanOutPlanner.swift", #""(no_notifier|address_suppressed):"#),
        ]
        var reasons: [String] = []
        for (file, pattern) in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let expression = try NSRegularExpression(pattern: pattern)
            for match in expression.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { reasons.append(String(text[range])) }
            }
        }
        #expect(reasons.count >= 15, "found \(reasons)")
        let unlabelled = reasons.filter { SuppressionMetricReason(recorded: $0) == .other }
        #expect(unlabelled.isEmpty, "reasons counted as other: \(unlabelled)")
    }

    @Test func handleIndexesFollowTheCaseOrder() {
        #expect(Channel.allCases.map(\.metricIndex) == Array(0..<Channel.allCases.count))
        #expect(FailureReason.allCases.map(\.metricIndex) == Array(0..<FailureReason.allCases.count))
    }

    @Test func everyBoundedSeriesExistsBeforeAnythingHappened() {
        let recorded = Recorded()
        let channels = Channel.allCases.count
        let reasons = FailureReason.allCases.count
        #expect(recorded.factory.counters(label: WorkerMetrics.Name.deliveries).count == channels * (1 + 2 * reasons))
        #expect(recorded.factory.counters(label: WorkerMetrics.Name.attempts).count == channels)
        #expect(recorded.factory.counters(label: WorkerMetrics.Name.truncations).count == channels)
        #expect(recorded.factory.timers(label: WorkerMetrics.Name.latency).count == channels)
        #expect(
            recorded.factory.counters(label: WorkerMetrics.Name.suppressions).count
                == SuppressionMetricReason.allCases.count
        )
    }
}
