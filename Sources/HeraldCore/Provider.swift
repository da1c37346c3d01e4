import Foundation

/// Per-event context shared by all of an event's recipients, computed once per event; the planner fills the
/// per-recipient links (settings, unsubscribe) into a copy for each directory user.
public struct RenderContext: Sendable, Hashable {
    /// The recipient's notification settings link for the event's key.
    public var settingsURL: String?
    /// The recipient's one-click unsubscribe link for the event's key on the message's channel (SPEC §11.7,
    /// RFC 8058): set for directory users when Herald's pages are on.
    public var unsubscribeURL: String?
    /// The project's display name, when known.
    public var projectName: String?
    /// The organization's display name, when known.
    public var organizationName: String?
    /// Prefix of email subjects (SPEC §9: `[Herald]`).
    public var subjectPrefix: String

    public init(
        settingsURL: String? = nil,
        projectName: String? = nil,
        organizationName: String? = nil,
        subjectPrefix: String = "[Herald]",
        unsubscribeURL: String? = nil
    ) {
        self.settingsURL = settingsURL
        self.unsubscribeURL = unsubscribeURL
        self.projectName = projectName
        self.organizationName = organizationName
        self.subjectPrefix = subjectPrefix
    }
}

/// Everything a renderer may read: pure inputs, no clock and no network.
public struct RenderInput: Sendable, Hashable {
    public var event: Event
    public var entry: CatalogEntry
    public var recipient: Recipient
    public var reason: DeliveryReason
    public var context: RenderContext

    public init(
        event: Event,
        entry: CatalogEntry,
        recipient: Recipient,
        reason: DeliveryReason,
        context: RenderContext
    ) {
        self.event = event
        self.entry = entry
        self.recipient = recipient
        self.reason = reason
        self.context = context
    }
}

/// A rendered payload ready to store with its delivery.
public struct RenderedMessage: Sendable, Hashable {
    /// How an entry of `truncations` starts when a custom key's template failed and the plain fallback was
    /// rendered instead (SPEC §3.3: logged as a warning with the template's path).
    public static let templateFailurePrefix = "template failed: "

    public var body: Data
    public var contentType: String
    /// What had to be cut to fit the provider's limits (logged as warnings, counted in metrics).
    public var truncations: [String]

    public init(body: Data, contentType: String, truncations: [String] = []) {
        self.body = body
        self.contentType = contentType
        self.truncations = truncations
    }
}

/// The request a provider makes of a stored delivery.
public enum OutboundRequest: Sendable {
    case http(HTTPRequest)
    case mail(MailMessage)
}

/// The raw result of an attempt, for classification.
public enum AttemptResult: Sendable {
    case http(TransportResult)
    case mail(MailResult)
}

/// One configured provider account: renders payloads, builds requests, classifies results.
/// Rendering and classification are pure, so golden and table tests need no network.
public protocol Provider: Sendable {
    /// The notifier this provider instance serves.
    var notifier: NotifierInfo { get }

    /// The rate-limit and pause key for a recipient on this notifier.
    func destination(for recipient: Recipient) -> Destination

    /// Renders the payload for one recipient.
    func render(_ input: RenderInput) throws -> RenderedMessage

    /// Builds the request for a stored delivery, adding credentials and endpoints from the notifier.
    func request(for delivery: Delivery) throws(DeliveryError) -> OutboundRequest

    /// Classifies the result of an attempt (providers.md §8).
    func classify(_ result: AttemptResult, now: Date) -> DeliveryOutcome

    /// Classifies the result of an attempt of `delivery`; providers whose rules depend on the destination
    /// (Slack webhook or Web API) implement it, the others inherit `classify(_:now:)`.
    func classify(_ result: AttemptResult, for delivery: Delivery, now: Date) -> DeliveryOutcome
}

extension Provider {
    public func classify(_ result: AttemptResult, for delivery: Delivery, now: Date) -> DeliveryOutcome {
        classify(result, now: now)
    }
}

/// The notifiers of a running daemon, by id, plus the default notifier per channel.
public struct ProviderSet: Sendable {
    private let byId: [Int: any Provider]
    private let defaults: [Channel: Int]

    public init(providers: [any Provider], defaults: [Channel: Int]) {
        var byId: [Int: any Provider] = [:]
        for provider in providers { byId[provider.notifier.id] = provider }
        self.byId = byId
        self.defaults = defaults
    }

    /// The provider of notifier `id`.
    public func provider(id: Int) -> (any Provider)? { byId[id] }

    /// The provider to use on `channel`: the requested notifier if given and of that channel, else the default.
    public func provider(for channel: Channel, requested: Int? = nil) -> (any Provider)? {
        if let requested {
            guard let provider = byId[requested], provider.notifier.channel == channel else { return nil }
            return provider
        }
        if let id = defaults[channel], let provider = byId[id] { return provider }
        return byId.values.filter { $0.notifier.channel == channel }.min { $0.notifier.id < $1.notifier.id }
    }

    /// Every notifier, by id.
    public var all: [any Provider] { byId.values.sorted { $0.notifier.id < $1.notifier.id } }
}
