/// Which events a route takes; an absent criterion accepts everything.
public struct RouteFilter: Sendable, Hashable, Codable {
    /// Issue levels from least to most severe, the order `minLevel` compares by.
    public static let levels = ["debug", "info", "warning", "error", "fatal"]

    /// Event keys the route takes; nil means every key.
    public var keys: [String]?
    /// The least severe issue level the route takes (`debug`…`fatal`); nil means any level.
    public var minLevel: String?
    /// Issue environments the route takes; nil means every environment.
    public var environments: [String]?

    /// Creates a filter.
    public init(keys: [String]? = nil, minLevel: String? = nil, environments: [String]? = nil) {
        self.keys = keys
        self.minLevel = minLevel
        self.environments = environments
    }
}

/// A project-level binding of matching events to a fixed target, outside personal preferences (SPEC §7).
public struct Route: Sendable, Hashable, Codable {
    /// Unique within the project.
    public var id: String
    /// The channel of the target.
    public var channel: Channel
    /// The notifier id to send through, or nil for the channel's default notifier.
    public var notifier: Int?
    /// A Slack channel id, a Teams Workflows URL, a PagerDuty routing key or a webhook URL.
    public var target: String
    /// Which events the route takes.
    public var filter: RouteFilter

    /// Creates a route.
    public init(id: String, channel: Channel, notifier: Int? = nil, target: String, filter: RouteFilter = RouteFilter())
    {
        self.id = id
        self.channel = channel
        self.notifier = notifier
        self.target = target
        self.filter = filter
    }

    private enum CodingKeys: String, CodingKey {
        case id, channel, notifier, target, filter
    }

    /// Decodes the route shape; an absent filter takes everything.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        channel = try container.decode(Channel.self, forKey: .channel)
        notifier = try container.decodeIfPresent(Int.self, forKey: .notifier)
        target = try container.decode(String.self, forKey: .target)
        filter = try container.decodeIfPresent(RouteFilter.self, forKey: .filter) ?? RouteFilter()
    }
}
