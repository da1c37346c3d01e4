/// A delivery channel: the kind of provider a message goes through.
public enum Channel: String, Codable, CaseIterable, Sendable, Hashable, Comparable {
    case email
    case slack
    case msteams
    case pagerduty
    case sms
    case webhook

    /// Channels a person can opt in or out of in their preferences (PagerDuty is reached only through routes).
    public static let personal: [Channel] = [.email, .slack, .msteams, .sms, .webhook]

    public static func < (lhs: Channel, rhs: Channel) -> Bool {
        lhs.sortIndex < rhs.sortIndex
    }

    private var sortIndex: Int {
        Channel.allCases.firstIndex(of: self) ?? 0
    }
}
