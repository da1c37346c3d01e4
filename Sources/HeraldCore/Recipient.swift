/// A resolved recipient of one delivery: who it is and the address on the delivery's channel.
public struct Recipient: Sendable, Hashable, Codable {
    /// What kind of party receives the message.
    public enum Kind: String, Sendable, Hashable, Codable {
        case user
        case team
        case address
        case route
    }

    public var kind: Kind
    /// The user, team or route id; nil for raw addresses.
    public var id: String?
    /// The channel-specific address (email, Slack id or webhook URL, phone, URL, routing key).
    public var address: String
    /// A display name, when known.
    public var name: String?

    public init(kind: Kind, id: String? = nil, address: String, name: String? = nil) {
        self.kind = kind
        self.id = id
        self.address = address
        self.name = name
    }

    /// A label safe for logs: the id, or the redacted address.
    public var logLabel: String {
        if let id { return "\(kind.rawValue):\(id)" }
        return "\(kind.rawValue):\(Redaction.redactedAddress(address))"
    }
}

/// Why a recipient gets a message (rendered as "you are subscribed because…").
public struct DeliveryReason: RawRepresentable, Sendable, Hashable, Codable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let explicit = DeliveryReason("explicit")
    public static let route = DeliveryReason("route")
    public static let implicit = DeliveryReason("implicit")

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
