import Foundation
import HeraldCore
import HeraldCurl
import HeraldProviders
import HeraldSQLite
import HeraldTesting
import Logging
import Synchronization
import Testing

@testable import HeraldWorker

/// A send stage over a real SQLite file, the libcurl transport and a fake vendor server, driven step by step
/// with a manual clock: no test sleeps to wait for a retry.
final class SendHarness: Sendable {
    let clock = ManualClock()
    let store: SQLiteStore
    let server: FakeVendorServer
    let transport = CurlTransport(maxHostConnections: 4)
    let stage: SendStage
    let fanOut: FanOutStage
    let directory: URL

    init(
        limits: RetryLimits = RetryLimits(maxAttempts: 3, maxAge: 3600),
        rateLimit: RateLimit = RateLimit(perSecond: 0, burst: 1),
        counters: WorkerCounters = WorkerCounters(),
        handler: @escaping @Sendable (RecordedRequest) -> FakeResponse
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-send-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
        try await store.migrate()
        server = try await FakeVendorServer.start(handler: handler)
        let notifier = NotifierInfo(
            id: 6,
            name: "webhook",
            channel: .webhook,
            rateLimit: rateLimit,
            retryLimits: limits
        )
        let providers = ProviderSet(
            providers: [WebhookProvider(notifier: notifier, connection: WebhookConnection())],
            defaults: [.webhook: 6]
        )
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let doorbell = Doorbell()
        stage = SendStage(
            store: store,
            providers: providers,
            http: transport,
            clock: clock,
            configuration: SendConfiguration(concurrency: 16, batchSize: 16),
            logger: logger,
            doorbell: doorbell,
            counters: counters,
            random: { 0.5 }
        )
        fanOut = FanOutStage(
            store: store,
            planner: FanOutPlanner(
                catalog: Catalog(custom: [
                    CatalogEntry(
                        key: "notice",
                        type: NotificationType("test"),
                        description: "Notice",
                        defaults: [.webhook: true]
                    )
                ]),
                providers: providers
            ),
            clock: clock,
            logger: logger,
            sendDoorbell: doorbell,
            counters: counters
        )
    }

    func shutdown() async throws {
        transport.shutdown()
        try await server.shutdown()
        try await store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Stores `count` events to `path` on the fake server and fans them out.
    @discardableResult
    func enqueue(_ count: Int, path: String = "/hook") async throws -> [String] {
        var events: [NewEvent] = []
        for index in 0..<count {
            let event = Event(
                id: "evt-\(UUID().uuidString.prefix(8))-\(index)",
                key: "notice",
                organization: "acme",
                data: ["title": .string("Notice \(index)")],
                recipients: [.address(channel: .webhook, address: server.baseURL + path, notifier: nil)],
                occurredAt: clock.now()
            )
            events.append(NewEvent(event: event, idempotencyKey: nil, canonicalBody: Data(event.id.utf8)))
        }
        _ = try await store.enqueue(events, now: clock.now())
        try await fanOut.runOnce()
        return events.map(\.event.id)
    }

    /// Claims due deliveries, waits until every transfer finished, and writes the outcomes.
    func step(limit: Int = 16) async throws {
        try await stage.claimAndDispatch(limit: limit)
        var spins = 0
        while stage.inflightCount > 0 {
            spins += 1
            if spins > 50_000 { throw HarnessError.stuck }
            try await Task.sleep(for: .milliseconds(1))
        }
        await stage.flush()
    }

    func deliveries() async throws -> [Delivery] {
        try await store.deliveries(state: nil, limit: 1000).sorted { $0.id < $1.id }
    }

    enum HarnessError: Error { case stuck }
}

@Suite("Send stage over real sockets and a real SQLite file", .serialized)
struct SendStageTests {
    @Test func deliversWithTraceabilityHeaders() async throws {
        let harness = try await SendHarness { _ in .ok }
        let ids = try await harness.enqueue(3)
        try await harness.step()
        let deliveries = try await harness.deliveries()
        #expect(deliveries.map(\.state) == [.delivered, .delivered, .delivered])
        let requests = harness.server.requests()
        #expect(Set(requests.compactMap { $0.header("X-Herald-Event-Id") }) == Set(ids))
        #expect(Set(requests.compactMap { $0.header("X-Herald-Delivery-Id") }) == Set(deliveries.map { String($0.id) }))
        #expect(requests.allSatisfy { $0.header("User-Agent") == HeraldVersion.userAgent })
        try await harness.shutdown()
    }

    @Test func attemptLimitLeadsToADeadLetter() async throws {
        let harness = try await SendHarness(limits: RetryLimits(maxAttempts: 3, maxAge: 3600)) { _ in
            .status(503, body: "busy")
        }
        try await harness.enqueue(1)
        for _ in 0..<3 {
            try await harness.step()
            harness.clock.advance(by: 600)
        }
        let delivery = try #require(try await harness.deliveries().first)
        #expect(delivery.state == .dead)
        #expect(delivery.attempts == 3)
        #expect(delivery.lastReason == .serverError)
        #expect(harness.server.requestCount == 3)
        // Nothing more is attempted once dead.
        try await harness.step()
        #expect(harness.server.requestCount == 3)
        try await harness.shutdown()
    }

    @Test func permanentFailureDeadLettersAtOnce() async throws {
        let harness = try await SendHarness { _ in .status(400, body: "bad") }
        try await harness.enqueue(1)
        try await harness.step()
        let delivery = try #require(try await harness.deliveries().first)
        #expect(delivery.state == .dead)
        #expect(delivery.attempts == 1)
        try await harness.shutdown()
    }

    @Test(arguments: ["30", "http-date"])
    func retryAfterPausesTheDestinationUntilItExpires(form: String) async throws {
        let answered = Mutex(0)
        let clock = ManualClock()
        let retryAt = clock.now().addingTimeInterval(30)
        let header: String
        if form == "http-date" {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            header = formatter.string(from: retryAt)
        } else {
            header = form
        }
        let harness = try await SendHarness { _ in
            let first = answered.withLock { count -> Bool in
                count += 1
                return count == 1
            }
            return first ? .status(429, retryAfter: header, body: "rate limited") : .ok
        }
        harness.clock.set(clock.now())
        try await harness.enqueue(1)
        try await harness.step()
        try await harness.enqueue(1)
        // The second delivery to the same destination is not sent while the destination is paused.
        try await harness.step()
        #expect(harness.server.requestCount == 1)
        let waiting = try await harness.deliveries()
        #expect(waiting[0].state == .retrying)
        #expect(waiting[0].dueAt >= retryAt)
        #expect(waiting[1].state == .pending)
        #expect(waiting[1].attempts == 0)
        #expect(waiting[1].dueAt >= retryAt)
        harness.clock.set(retryAt.addingTimeInterval(1.01))
        try await harness.step()
        #expect(try await harness.deliveries().map(\.state) == [.delivered, .delivered])
        #expect(harness.server.requestCount == 3)
        try await harness.shutdown()
    }

    @Test func rateLimitDefersWithoutCountingAttempts() async throws {
        let harness = try await SendHarness(rateLimit: RateLimit(perSecond: 1, burst: 1)) { _ in .ok }
        try await harness.enqueue(3)
        try await harness.step()
        var deliveries = try await harness.deliveries()
        #expect(deliveries.filter { $0.state == .delivered }.count == 1)
        #expect(deliveries.filter { $0.state == .pending }.allSatisfy { $0.attempts == 0 })
        for _ in 0..<2 {
            harness.clock.advance(by: 1)
            try await harness.step()
        }
        deliveries = try await harness.deliveries()
        #expect(deliveries.map(\.state) == [.delivered, .delivered, .delivered])
        #expect(harness.server.requestCount == 3)
        try await harness.shutdown()
    }

    @Test func expiredLeaseIsClaimedAgain() async throws {
        let harness = try await SendHarness { _ in .ok }
        try await harness.enqueue(1)
        // A worker claims the delivery and dies before sending it.
        let now = harness.clock.now()
        let claimed = try await harness.store.claimDeliveries(
            limit: 10,
            now: now,
            leaseUntil: now.addingTimeInterval(60)
        )
        #expect(claimed.count == 1)
        try await harness.step()
        #expect(harness.server.requestCount == 0)
        harness.clock.advance(by: 61)
        try await harness.step()
        #expect(try await harness.deliveries().map(\.state) == [.delivered])
        #expect(harness.server.requestCount == 1)
        try await harness.shutdown()
    }
}
