import Foundation
import HeraldCore
import HeraldCurl

extension Commands {
    /// The catalog entry of test messages: not in the catalog, never stored, critical so nothing mutes it.
    static let testEntry = CatalogEntry(
        key: "herald_test",
        type: NotificationType("system"),
        description: "Herald test message",
        defaults: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, true) }),
        critical: true
    )

    /// `herald send-test --notifier N --to ADDRESS`: renders a test message, sends it now through the notifier
    /// and prints the classified outcome. Nothing is stored.
    public static func sendTest(configPath: String, notifierId: Int, to address: String) async -> Int32 {
        MemoryTuning.apply()
        let loaded: LoadedConfiguration
        let providers: ProviderSet
        do {
            loaded = try ConfigurationLoader.load(path: configPath)
            providers = try ProviderFactory.makeProviders(loaded)
        } catch {
            CommandOutput.failure("\(configPath): " + error.problems.map(\.description).joined(separator: "; "))
            return 78
        }
        guard let provider = providers.provider(id: notifierId) else {
            let known = providers.all.map { "\($0.notifier.id) (\($0.notifier.name))" }.joined(separator: ", ")
            CommandOutput.failure("--notifier: no notifier \(notifierId) is configured (\(known))")
            return 64
        }
        let channel = provider.notifier.channel
        if let problem = AddressValidator.problem(with: address, on: channel) {
            CommandOutput.failure("--to: \"\(Redaction.redactedAddress(address))\" \(problem)")
            return 64
        }
        let transport = CurlTransport(maxHostConnections: 1)
        defer { transport.shutdown() }
        let outcome = await sendTestMessage(
            provider: provider,
            to: address,
            configuration: loaded.configuration,
            http: transport,
            mail: transport
        )
        switch outcome {
        case .delivered(let receipt):
            CommandOutput.line("delivered" + (receipt.map { " receipt=\($0)" } ?? ""))
            return 0
        case .failed(let error):
            CommandOutput.line("\(error.isRetryable ? "retry" : "permanent") \(error.summary)")
            return 1
        case .notRendered(let message):
            CommandOutput.failure("rendering the test message failed: \(message)")
            return 1
        }
    }

    /// What a test message came to.
    enum TestMessageOutcome: Sendable {
        case delivered(receipt: String?)
        case failed(DeliveryError)
        /// The message could not be rendered (a template or payload problem); the text is safe to show.
        case notRendered(String)
    }

    /// Renders a test message for `provider`, sends it now to `address` and classifies the result; nothing is
    /// stored (`herald send-test` and `POST /api/v1/notifiers/{id}/test`).
    static func sendTestMessage(
        provider: any Provider,
        to address: String,
        configuration: HeraldConfiguration,
        http: any HTTPTransport,
        mail: any MailTransport
    ) async -> TestMessageOutcome {
        let channel = provider.notifier.channel
        let notifierId = provider.notifier.id
        let now = Date()
        var entry = testEntry
        var event = Event(
            id: EventID.generate(at: now),
            key: testEntry.key,
            organization: "herald",
            data: [
                "title": .string("Herald test message"),
                "text": .string("If you can read this, notifier \(provider.notifier.name) works."),
            ],
            occurredAt: now
        )
        if channel == .pagerduty, let alert = Catalog().entry(for: "issue_alert") {
            // PagerDuty pages only for alert keys: the test opens an info-level incident.
            entry = alert
            event.key = alert.key
            event.issue = IssueReference(
                id: "herald-test",
                shortId: "HERALD-TEST",
                title: "Herald test incident",
                level: "info"
            )
            event.data["rule"] = .object(["id": .string("herald-test"), "name": .string("herald send-test")])
        }
        let recipient = Recipient(kind: channel == .pagerduty ? .route : .address, id: nil, address: address)
        let input = RenderInput(
            event: event,
            entry: entry,
            recipient: recipient,
            reason: .explicit,
            context: RenderContext(
                settingsURL: configuration.links.settingsURL?.replacingOccurrences(
                    of: "{key}",
                    with: testEntry.key
                ),
                subjectPrefix: configuration.email.subjectPrefix
            )
        )
        do {
            let rendered = try provider.render(input)
            let delivery = Delivery(
                id: 0,
                eventId: event.id,
                channel: channel,
                notifierId: notifierId,
                recipient: recipient,
                reason: .explicit,
                destination: provider.destination(for: recipient).key,
                payload: rendered.body,
                contentType: rendered.contentType,
                state: .leased,
                attempts: 0,
                createdAt: now,
                windowStart: now,
                dueAt: now,
                updatedAt: now
            )
            let result: AttemptResult
            switch try provider.request(for: delivery) {
            case .http(var request):
                request.headers.append(HTTPHeader("User-Agent", HeraldVersion.userAgent))
                request.headers.append(HTTPHeader("X-Herald-Event-Id", event.id))
                request.headers.append(HTTPHeader("X-Herald-Delivery-Id", "test"))
                result = .http(await http.send(request))
            case .mail(let message):
                result = .mail(await mail.send(message))
            }
            switch provider.classify(result, for: delivery, now: Date()) {
            case .delivered(let receipt): return .delivered(receipt: receipt)
            case .failed(let error): return .failed(error)
            }
        } catch let error as DeliveryError {
            return .failed(error)
        } catch {
            return .notRendered("\(error)")
        }
    }
}
