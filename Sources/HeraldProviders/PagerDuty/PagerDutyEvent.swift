import HeraldCore

/// An Events API v2 event (providers.md §2). A resolve carries only `routing_key`, `event_action` and
/// `dedup_key`; a trigger adds the payload, links and the client.
struct PagerDutyEvent: Encodable, Sendable, Hashable {
    var routingKey: String
    var eventAction: PagerDutyProvider.EventAction
    var dedupKey: String
    var payload: PagerDutyPayload?
    var links: [PagerDutyLink]?
    var client: String?
    var clientURL: String?

    private enum CodingKeys: String, CodingKey {
        case routingKey = "routing_key"
        case eventAction = "event_action"
        case dedupKey = "dedup_key"
        case payload
        case links
        case client
        case clientURL = "client_url"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(routingKey, forKey: .routingKey)
        try container.encode(eventAction.rawValue, forKey: .eventAction)
        try container.encode(dedupKey, forKey: .dedupKey)
        try container.encodeIfPresent(payload, forKey: .payload)
        try container.encodeIfPresent(links, forKey: .links)
        try container.encodeIfPresent(client, forKey: .client)
        try container.encodeIfPresent(clientURL, forKey: .clientURL)
    }
}

/// The alert itself: what PagerDuty shows and groups by.
struct PagerDutyPayload: Encodable, Sendable, Hashable {
    /// The alert title, at most 1024 characters.
    var summary: String
    /// The affected system (free text).
    var source: String
    /// `critical`, `error`, `warning` or `info`; anything else is a 400.
    var severity: String
    /// When the activity happened (ISO 8601).
    var timestamp: String?
    /// The project.
    var component: String?
    /// The environment.
    var group: String?
    /// The event key.
    var eventClass: String?
    /// Key data as a flat object PagerDuty shows as a table.
    var customDetails: [JSONKey: JSONValue]?

    private enum CodingKeys: String, CodingKey {
        case summary
        case source
        case severity
        case timestamp
        case component
        case group
        case eventClass = "class"
        case customDetails = "custom_details"
    }
}

/// A link shown on the alert.
struct PagerDutyLink: Encodable, Sendable, Hashable {
    var href: String
    var text: String
}
