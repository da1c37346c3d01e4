/// How a PagerDuty notifier reaches the Events API v2 (SPEC §14 `notifiers[].pagerduty`).
///
/// The notifier holds no credential: each route's target is a routing (integration) key, sent in the body.
public struct PagerDutyConnection: Sendable, Hashable {
    /// PagerDuty's public Events API v2 endpoint.
    public static let defaultEventsURL = "https://events.pagerduty.com/v2/enqueue"

    /// Where events are POSTed; EU accounts use `https://events.eu.pagerduty.com/v2/enqueue`.
    public var eventsURL: String

    /// Creates a connection; `eventsURL` defaults to PagerDuty's US endpoint.
    public init(eventsURL: String = PagerDutyConnection.defaultEventsURL) {
        self.eventsURL = eventsURL
    }
}
