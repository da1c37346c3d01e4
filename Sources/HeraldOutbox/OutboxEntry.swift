import Foundation

/// One request the outbox received, as it records it (one JSON line each) and prints it (one readable line).
public struct OutboxEntry: Sendable, Codable, Hashable {
    /// When it arrived, ISO 8601 with milliseconds.
    public var time: String
    /// `email`, `slack`, `msteams`, `pagerduty`, `sms`, `webhook`, or `unknown` for a path the outbox does not serve.
    public var channel: String
    /// Who it was for: the email recipient, Slack channel or webhook name, phone number, routing key label, …
    public var destination: String
    /// A readable summary of the payload: the subject, the message text, the incident summary.
    public var title: String
    /// The answer: an HTTP status or an SMTP reply code.
    public var status: Int
    /// `delivered`, or what the outbox was asked to do instead (`retry-once`, `dead-once`) or `not-found`.
    public var outcome: String
    /// `X-Herald-Event-Id` of the request (or message header), when present.
    public var eventId: String?
    /// `X-Herald-Delivery-Id` of the request (or message header), when present.
    public var deliveryId: String?
    /// `POST /slack/hooks/ops`, or `SMTP` for email.
    public var request: String
    /// The payload as received (the message for email).
    public var body: String

    /// Creates an entry.
    public init(
        time: String,
        channel: String,
        destination: String,
        title: String,
        status: Int,
        outcome: String,
        eventId: String?,
        deliveryId: String?,
        request: String,
        body: String
    ) {
        self.time = time
        self.channel = channel
        self.destination = destination
        self.title = title
        self.status = status
        self.outcome = outcome
        self.eventId = eventId
        self.deliveryId = deliveryId
        self.request = request
        self.body = body
    }

    /// `12:00:01 slack    #ops-alerts            "Ann assigned BACKEND-12 to you" -> 200 delivered`.
    public var line: String {
        let clock = time.split(separator: "T").last.map { String($0.prefix(8)) } ?? time
        let shownTitle = title.count > 100 ? String(title.prefix(99)) + "…" : title
        let result = outcome == "delivered" ? "delivered" : "\(outcome): answered \(status)"
        return "\(clock) \(pad(channel, 9)) \(pad(destination, 28)) \"\(shownTitle)\" -> \(result)"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
