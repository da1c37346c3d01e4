/// Why an event cannot be rendered as a PagerDuty event. Descriptions never contain the routing key.
public enum PagerDutyRenderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The event key neither triggers nor resolves (SPEC §7): the fan-out should not route it to PagerDuty.
    case keyDoesNotPage(String)
    /// The route's target is not a routing key; the associated value says what is wrong with it.
    case invalidRoutingKey(String)

    /// A sentence for logs and `herald explain`.
    public var description: String {
        switch self {
        case .keyDoesNotPage(let key):
            "event key \(key) does not page: only escalating, regression, issue_alert and resolved* keys "
                + "go to PagerDuty"
        case .invalidRoutingKey(let problem):
            "the PagerDuty route target \(problem)"
        }
    }
}
