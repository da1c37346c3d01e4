import Foundation
import HeraldCore

/// One party to notify on one channel, before rendering.
public struct PlannedTarget: Sendable, Hashable {
    public var recipient: Recipient
    public var channel: Channel
    public var reason: DeliveryReason
    /// The notifier to use; nil for the channel's default (or the project's choice).
    public var notifier: Int?

    public init(recipient: Recipient, channel: Channel, reason: DeliveryReason, notifier: Int? = nil) {
        self.recipient = recipient
        self.channel = channel
        self.reason = reason
        self.notifier = notifier
    }
}

/// Who an event reaches besides its raw addresses, who was left out, and the subscriptions it implies.
public struct AudienceResolution: Sendable, Hashable {
    public var targets: [PlannedTarget]
    public var suppressions: [Suppression]
    /// Implicit subscription changes (SPEC §5.3), stored in the same transaction as the deliveries.
    public var subscriptionChanges: [SubscriptionChange]
    /// Members left out together (the fallthrough cut), compact.
    public var cuts: [SuppressionCut]

    public init(
        targets: [PlannedTarget] = [],
        suppressions: [Suppression] = [],
        subscriptionChanges: [SubscriptionChange] = [],
        cuts: [SuppressionCut] = []
    ) {
        self.targets = targets
        self.suppressions = suppressions
        self.subscriptionChanges = subscriptionChanges
        self.cuts = cuts
    }
}

/// Who, besides the event's raw addresses, should hear about an event (participants, routes).
public protocol AudienceResolver: Sendable {
    /// Targets, the candidates left out and the implied subscription changes, for one event. Called for the
    /// events of a batch in order, so the changes of one event are visible to the next.
    func resolve(_ event: Event, entry: CatalogEntry) -> AudienceResolution

    /// Brings the resolver's view of the directory up to date before a batch.
    func refresh(from store: any Store) async throws

    /// Why `address` must not be messaged on `channel`, if it is suppressed.
    func suppression(of address: String, on channel: Channel) -> String?
}

extension AudienceResolver {
    public func refresh(from store: any Store) async throws {}

    public func suppression(of address: String, on channel: Channel) -> String? { nil }
}

/// The audience when no directory is configured: users and teams named by an event cannot be resolved.
public struct NoDirectoryAudience: AudienceResolver {
    public init() {}

    public func resolve(_ event: Event, entry: CatalogEntry) -> AudienceResolution {
        var suppressions: [Suppression] = []
        for spec in event.recipients {
            switch spec {
            case .user(let id):
                suppressions.append(
                    Suppression(eventId: event.id, recipient: "user:\(id)", channel: nil, reason: "unknown_user")
                )
            case .team(let id):
                suppressions.append(
                    Suppression(eventId: event.id, recipient: "team:\(id)", channel: nil, reason: "unknown_team")
                )
            case .address: break
            }
        }
        return AudienceResolution(suppressions: suppressions)
    }
}

/// Turns an event into rendered deliveries and suppression records. Pure apart from the providers' rendering.
public struct FanOutPlanner: Sendable {
    public var catalog: Catalog
    public var providers: ProviderSet
    public var audience: any AudienceResolver
    /// The settings link, with `{key}` standing for the event key.
    public var settingsURLTemplate: String?
    public var subjectPrefix: String
    /// Signs each directory user's links to Herald's own pages (SPEC §11.7): one-click unsubscribe on email,
    /// and the preference center as the settings link when `settingsURLTemplate` is nil. Nil: no such links.
    public var links: (any RecipientLinks)?
    /// When links are issued (their expiry counts from fan-out).
    public var clock: any WallClock

    public init(
        catalog: Catalog,
        providers: ProviderSet,
        audience: any AudienceResolver = NoDirectoryAudience(),
        settingsURLTemplate: String? = nil,
        subjectPrefix: String = "[Herald]",
        links: (any RecipientLinks)? = nil,
        clock: any WallClock = SystemWallClock()
    ) {
        self.catalog = catalog
        self.providers = providers
        self.audience = audience
        self.settingsURLTemplate = settingsURLTemplate
        self.subjectPrefix = subjectPrefix
        self.links = links
        self.clock = clock
    }

    /// The context of one target's message: the event's, plus the user's own signed links. Critical keys
    /// cannot be muted, so their messages carry neither.
    func context(
        _ base: RenderContext,
        for target: PlannedTarget,
        event: Event,
        entry: CatalogEntry,
        now: Date?
    )
        -> RenderContext
    {
        guard let links, let now, !entry.critical, target.recipient.kind == .user, let user = target.recipient.id,
            Channel.personal.contains(target.channel)
        else { return base }
        let signed = links.links(user: user, key: event.key, channel: target.channel, now: now)
        var context = base
        if context.settingsURL == nil { context.settingsURL = signed.preferencesURL }
        if target.channel == .email { context.unsubscribeURL = signed.unsubscribeURL }
        return context
    }

    /// Everything that became of the event; `problems` lists render failures for the log.
    public func plan(_ event: Event) -> (result: FanOutResult, problems: [String], truncations: [RenderNote]) {
        guard let entry = catalog.entry(for: event.key) else {
            let suppression = Suppression(eventId: event.id, recipient: "*", channel: nil, reason: "unknown_key")
            return (FanOutResult(eventId: event.id, deliveries: [], suppressions: [suppression]), [], [])
        }
        var targets: [PlannedTarget] = []
        for spec in event.recipients {
            if case .address(let channel, let address, let notifier) = spec {
                targets.append(
                    PlannedTarget(
                        recipient: Recipient(kind: .address, address: address),
                        channel: channel,
                        reason: .explicit,
                        notifier: notifier
                    )
                )
            }
        }
        let resolved = audience.resolve(event, entry: entry)
        targets.append(contentsOf: resolved.targets)
        var suppressions = resolved.suppressions

        let context = RenderContext(
            settingsURL: settingsURLTemplate.map { $0.replacingOccurrences(of: "{key}", with: event.key) },
            subjectPrefix: subjectPrefix
        )
        let now = links == nil ? nil : clock.now()
        var seen = Set<String>()
        var deliveries: [NewDelivery] = []
        var problems: [String] = []
        var truncations: [RenderNote] = []
        for target in targets {
            let identity =
                "\(target.recipient.kind.rawValue)|\(target.recipient.id ?? target.recipient.address)|\(target.channel.rawValue)"
            guard seen.insert(identity).inserted else { continue }
            if let reason = audience.suppression(of: target.recipient.address, on: target.channel) {
                suppressions.append(
                    Suppression(
                        eventId: event.id,
                        recipient: target.recipient.logLabel,
                        channel: target.channel,
                        reason: "address_suppressed:\(reason)"
                    )
                )
                continue
            }
            guard let provider = providers.provider(for: target.channel, requested: target.notifier) else {
                let reason =
                    target.notifier.map { "no_notifier:\($0)" } ?? "no_notifier:\(target.channel.rawValue)"
                suppressions.append(
                    Suppression(
                        eventId: event.id,
                        recipient: target.recipient.logLabel,
                        channel: target.channel,
                        reason: reason
                    )
                )
                continue
            }
            let input = RenderInput(
                event: event,
                entry: entry,
                recipient: target.recipient,
                reason: target.reason,
                context: self.context(context, for: target, event: event, entry: entry, now: now)
            )
            do {
                let rendered = try provider.render(input)
                for note in rendered.truncations {
                    truncations.append(RenderNote(channel: target.channel, detail: note))
                }
                deliveries.append(
                    NewDelivery(
                        eventId: event.id,
                        channel: target.channel,
                        notifierId: provider.notifier.id,
                        recipient: target.recipient,
                        reason: target.reason,
                        destination: provider.destination(for: target.recipient).key,
                        payload: rendered.body,
                        contentType: rendered.contentType
                    )
                )
            } catch {
                problems.append("\(target.channel.rawValue) \(target.recipient.logLabel): \(error)")
                suppressions.append(
                    Suppression(
                        eventId: event.id,
                        recipient: target.recipient.logLabel,
                        channel: target.channel,
                        reason: "render_failed"
                    )
                )
            }
        }
        return (
            FanOutResult(
                eventId: event.id,
                deliveries: deliveries,
                suppressions: suppressions,
                subscriptionChanges: resolved.subscriptionChanges,
                cuts: resolved.cuts
            ),
            problems, truncations
        )
    }
}

/// A truncation or template fallback of one rendered payload, with the channel it was rendered for.
public struct RenderNote: Sendable, Hashable {
    public var channel: Channel
    /// The renderer's text; a template fallback starts with `RenderedMessage.templateFailurePrefix`.
    public var detail: String

    public init(channel: Channel, detail: String) {
        self.channel = channel
        self.detail = detail
    }
}
