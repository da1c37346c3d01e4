import Crypto
import Foundation
import HeraldCore

/// Renders Events API v2 events (SPEC §7, §9; providers.md §2). Pure.
struct PagerDutyRenderer: Sendable {
    /// PagerDuty's limits (providers.md §2).
    enum Limit {
        /// `payload.summary`, in characters (counted as Unicode scalars, as Alertmanager counts runes).
        static let summary = 1024
        /// `payload.source`, `component` and `group`: PagerDuty documents no limit; Herald keeps them as short
        /// as a summary so that free text (a culprit) cannot crowd out the event.
        static let shortField = 1024
        /// The whole event, in bytes.
        static let eventBytes = 512 * 1024
        /// `dedup_key`, in bytes (PagerDuty says 255 characters; bytes are never fewer).
        static let dedupKeyBytes = 255
    }

    /// What replaces `custom_details` when the event is too large (as Alertmanager does).
    static let oversizeNote =
        "custom details were left out: the event exceeded PagerDuty's 512 KB limit; see the issue for details"

    /// Renders `input` for the routing key in its recipient's address.
    func render(_ input: RenderInput) throws -> (body: Data, truncations: [String]) {
        let event = input.event
        guard let action = PagerDutyProvider.action(for: event.key) else {
            throw PagerDutyRenderError.keyDoesNotPage(event.key)
        }
        let routingKey = input.recipient.address
        if let problem = AddressValidator.routingKeyProblem(routingKey) {
            throw PagerDutyRenderError.invalidRoutingKey(problem)
        }
        let dedupKey = Self.dedupKey(for: event)
        guard action == .trigger else {
            // A resolve needs nothing else: PagerDuty closes the alert with that key on that routing key.
            let resolve = PagerDutyEvent(routingKey: routingKey, eventAction: .resolve, dedupKey: dedupKey)
            return (try PayloadJSON.encode(resolve), [])
        }

        var truncations: [String] = []
        func fitted(_ text: String, limit: Int, name: String) -> String {
            let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
            let cut = Truncation.truncate(oneLine, limit: limit)
            if cut.wasTruncated { truncations.append("pagerduty \(name) cut to \(limit) characters") }
            return cut.text
        }

        let content = NeutralContent(input)
        let issue = event.issue
        var summary = content.summary ?? content.title
        if let title = NeutralContent.nonEmpty(issue?.title), !summary.contains(title) {
            summary += " — " + title
        }
        let source =
            NeutralContent.nonEmpty(issue?.culprit) ?? content.projectName
            ?? NeutralContent.nonEmpty(input.context.organizationName) ?? event.organization
        var trigger = PagerDutyEvent(
            routingKey: routingKey,
            eventAction: .trigger,
            dedupKey: dedupKey,
            payload: PagerDutyPayload(
                summary: fitted(summary, limit: Limit.summary, name: "summary"),
                source: fitted(source, limit: Limit.shortField, name: "source"),
                severity: Self.severity(forLevel: issue?.level),
                timestamp: Timestamp.format(event.occurredAt),
                component: content.projectName.map { fitted($0, limit: Limit.shortField, name: "component") },
                group: content.environment.map { fitted($0, limit: Limit.shortField, name: "group") },
                eventClass: event.key,
                customDetails: Self.customDetails(input, content: content)
            ),
            links: Self.links(content, shortId: NeutralContent.nonEmpty(issue?.shortId)),
            client: "Herald",
            clientURL: content.url ?? content.settingsURL
        )

        var body = try PayloadJSON.encode(trigger)
        if body.count > Limit.eventBytes {
            trigger.payload?.customDetails = ["note": .string(Self.oversizeNote)]
            body = try PayloadJSON.encode(trigger)
            truncations.append("pagerduty custom_details left out to fit \(Limit.eventBytes) bytes")
        }
        if body.count > Limit.eventBytes {
            // Only links (URLs of unbounded length) can still be too large.
            trigger.links = nil
            body = try PayloadJSON.encode(trigger)
            truncations.append("pagerduty links left out to fit \(Limit.eventBytes) bytes")
        }
        return (body, truncations)
    }

    /// `<organization>/<issue shortId>` (the issue id without a short id, the event id without an issue),
    /// identical for every key of one issue so that a resolve closes what a trigger opened. Keys over 255
    /// bytes keep a readable prefix and end in a SHA-256 of the whole key, so they stay unique and stable.
    static func dedupKey(for event: Event) -> String {
        let subject =
            NeutralContent.nonEmpty(event.issue?.shortId) ?? event.issue?.id ?? "event/\(event.id)"
        let key = "\(event.organization)/\(subject)"
        guard key.utf8.count > Limit.dedupKeyBytes else { return key }
        let digest = SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
        var prefix = ""
        for character in key {
            guard prefix.utf8.count + String(character).utf8.count <= Limit.dedupKeyBytes - 65 else { break }
            prefix.append(character)
        }
        return prefix + "#" + digest
    }

    /// PagerDuty's four severities from the issue level: fatal → critical, error, warning, else info.
    static func severity(forLevel level: String?) -> String {
        switch level?.lowercased() {
        case "fatal", "critical": "critical"
        case "error": "error"
        case "warning": "warning"
        default: "info"
        }
    }

    /// The key data as a flat object: the issue, the project, the actor, the key's facts, and the raw
    /// `data` for anything the facts leave out.
    private static func customDetails(_ input: RenderInput, content: NeutralContent) -> [JSONKey: JSONValue] {
        let event = input.event
        var details: [JSONKey: JSONValue] = ["Event": .string(event.key)]
        func set(_ name: String, _ value: String?) {
            if let value = NeutralContent.nonEmpty(value) { details[name] = .string(value) }
        }
        if let issue = event.issue {
            set("Issue", issue.shortId ?? issue.id)
            set("Title", issue.title)
            set("Level", issue.level)
            set("Culprit", issue.culprit)
        }
        set("Environment", content.environment)
        set("Project", content.projectName)
        set("Organization", input.context.organizationName ?? event.organization)
        set("Actor", event.actor.map { $0.name ?? $0.id })
        for fact in content.facts { set(fact.label, fact.value) }
        set("Text", content.body)
        if !event.data.isEmpty { details["Data"] = .object(event.data) }
        return details
    }

    /// The issue, then any linked fact (the alert rule), then the settings page.
    private static func links(_ content: NeutralContent, shortId: String?) -> [PagerDutyLink]? {
        var links: [PagerDutyLink] = []
        if let url = content.url { links.append(PagerDutyLink(href: url, text: "Open \(shortId ?? "issue")")) }
        for fact in content.facts {
            if let url = fact.url { links.append(PagerDutyLink(href: url, text: "\(fact.label): \(fact.value)")) }
        }
        if let url = content.settingsURL { links.append(PagerDutyLink(href: url, text: "Notification settings")) }
        return links.isEmpty ? nil : links
    }
}
