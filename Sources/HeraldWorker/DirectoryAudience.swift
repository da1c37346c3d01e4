import Foundation
import HeraldCore
import Synchronization

/// The audience from the directory: participants (SPEC §6), project routes (§7), the project's email and SMS
/// notifiers (§11.4) and implicit subscriptions (§5.3). Reads an in-memory snapshot that is reloaded when the
/// store's directory version changes and kept current with the subscriptions fan-out writes itself.
public final class DirectoryAudience: AudienceResolver {
    private struct State: Sendable {
        var snapshot: DirectorySnapshot
        var version: Int64?
        var suppressed: [SuppressedKey: String] = [:]
    }

    private struct SuppressedKey: Hashable, Sendable {
        var channel: Channel
        var address: String
    }

    private let state: Mutex<State>
    private let participants: ParticipantResolver
    /// Called after a reload has replaced the snapshot (and dropped the old one and the decoded document).
    private let afterReload: (@Sendable () -> Void)?

    /// Keys that page through PagerDuty routes (SPEC §7): triggers, and every `resolved*` key to resolve.
    static let pagingTriggers: Set<String> = ["escalating", "regression", "issue_alert"]

    /// - Parameter afterReload: runs after each reload of the directory, once the old snapshot and the loaded
    ///   document are gone (the daemon hands their memory back to the kernel: loading a large directory is a
    ///   brief peak that would otherwise stay its footprint).
    public init(
        fallthroughLimit: Int = ParticipantResolver.defaultFallthroughLimit,
        snapshot: DirectorySnapshot = DirectorySnapshot(),
        afterReload: (@Sendable () -> Void)? = nil
    ) {
        participants = ParticipantResolver(fallthroughLimit: fallthroughLimit)
        state = Mutex(State(snapshot: snapshot, version: nil))
        self.afterReload = afterReload
    }

    public func refresh(from store: any Store) async throws {
        let version = try await store.directoryVersion()
        guard state.withLock({ $0.version }) != version else { return }
        var suppressed: [SuppressedKey: String] = [:]
        for row in try await store.addressSuppressions() {
            suppressed[SuppressedKey(channel: row.channel, address: row.address)] = row.reason
        }
        let snapshot = DirectorySnapshot(document: try await store.loadDirectory())
        // Replacing the state drops the old snapshot (unless a resolution still holds it); then memory is trimmed.
        state.withLock { $0 = State(snapshot: snapshot, version: version, suppressed: suppressed) }
        afterReload?()
    }

    public func suppression(of address: String, on channel: Channel) -> String? {
        state.withLock { $0.suppressed[SuppressedKey(channel: channel, address: address)] }
    }

    /// Resolves one event. Only the implicit subscriptions are applied under the lock; the plan is computed
    /// outside it on the snapshot as it stood between the additions and the removals, so the fan-out stage can
    /// resolve events of different issues on both cores at once (events of one issue must still come in order:
    /// they see each other's subscriptions).
    public func resolve(_ event: Event, entry: CatalogEntry) -> AudienceResolution {
        let (snapshot, changes) = state.withLock { state -> (DirectorySnapshot, [SubscriptionChange]) in
            // SPEC §5.3: new subscriptions count for this event's audience (the new assignee hears why they
            // follow the issue), removals only after it, so a previous assignee hears of the reassignment.
            let changes = ImplicitSubscriptions.changes(for: event, in: state.snapshot)
            guard !changes.isEmpty else { return (state.snapshot, changes) }
            let (additions, removals) = ImplicitSubscriptions.split(changes)
            state.snapshot.apply(additions)
            let snapshot = state.snapshot
            state.snapshot.apply(removals)
            return (snapshot, changes)
        }
        let plan = participants.plan(for: event, entry: entry, directory: snapshot)
        let project = snapshot.organization(reference: event.organization).flatMap { organization in
            event.project.flatMap { snapshot.project(reference: $0, organization: organization.id) }
        }
        var targets = plan.targets.map { target in
            PlannedTarget(
                recipient: target.recipient,
                channel: target.channel,
                reason: target.reason,
                notifier: Self.projectNotifier(project, channel: target.channel)
            )
        }
        if let project {
            targets.append(contentsOf: Self.routeTargets(project, event: event))
        }
        return AudienceResolution(
            targets: targets,
            suppressions: plan.suppressions,
            subscriptionChanges: changes,
            cuts: plan.cuts
        )
    }

    /// The project's notifier for personal email and SMS deliveries; nil means the configured default.
    static func projectNotifier(_ project: Project?, channel: Channel) -> Int? {
        switch channel {
        case .email: project?.settings.emailNotifier
        case .sms: project?.settings.smsNotifier
        default: nil
        }
    }

    /// The project's routes whose filter matches the event.
    static func routeTargets(_ project: Project, event: Event) -> [PlannedTarget] {
        project.routes.compactMap { route in
            guard matches(route.filter, event: event) else { return nil }
            if route.channel == .pagerduty, !pages(event.key) { return nil }
            return PlannedTarget(
                recipient: Recipient(kind: .route, id: route.id, address: route.target),
                channel: route.channel,
                reason: .route,
                notifier: route.notifier
            )
        }
    }

    /// Whether `key` opens or closes a PagerDuty incident.
    static func pages(_ key: String) -> Bool {
        pagingTriggers.contains(key) || key.hasPrefix("resolved")
    }

    static func matches(_ filter: RouteFilter, event: Event) -> Bool {
        if let keys = filter.keys, !keys.contains(event.key) { return false }
        if let environments = filter.environments {
            guard let environment = event.issue?.environment, environments.contains(environment) else { return false }
        }
        if let minimum = filter.minLevel, let threshold = RouteFilter.levels.firstIndex(of: minimum) {
            // Resolutions carry no level of their own; they pass so they can close what a trigger opened.
            if let level = event.issue?.level, let rank = RouteFilter.levels.firstIndex(of: level) {
                if rank < threshold { return false }
            } else if !event.key.hasPrefix("resolved") {
                return false
            }
        }
        return true
    }
}
