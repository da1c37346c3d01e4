/// Who hears an issue alert when its targets yield nobody (SPEC §6.3).
public enum FallthroughChoice: String, Sendable, Hashable, Codable, CaseIterable {
    /// The most recently active members, cut to the fallthrough limit.
    case activeMembers
    /// Every member of the project's teams, uncapped.
    case allMembers
    /// Nobody.
    case noOne
}

/// The notifiers and one-time-passcode settings of a project (SPEC §11.4).
public struct ProjectNotificationSettings: Sendable, Hashable, Codable {
    /// Allowed passcode lengths.
    public static let otpCodeLengthRange = 4...10
    /// Allowed passcode lifetimes, in seconds.
    public static let otpTtlSecondsRange = 30...3600

    /// The notifier id for the project's email deliveries, or nil for the configured default.
    public var emailNotifier: Int?
    /// The notifier id for the project's SMS deliveries, or nil for the configured default.
    public var smsNotifier: Int?
    /// Digits in a one-time passcode (default 5).
    public var otpCodeLength: Int
    /// Lifetime of a one-time passcode in seconds (default 120).
    public var otpTtlSeconds: Int

    /// Creates settings; the defaults are those of a new project.
    public init(emailNotifier: Int? = nil, smsNotifier: Int? = nil, otpCodeLength: Int = 5, otpTtlSeconds: Int = 120) {
        self.emailNotifier = emailNotifier
        self.smsNotifier = smsNotifier
        self.otpCodeLength = otpCodeLength
        self.otpTtlSeconds = otpTtlSeconds
    }

    private enum CodingKeys: String, CodingKey {
        case emailNotifier, smsNotifier, otpCodeLength, otpTtlSeconds
    }

    /// Decodes the settings shape; absent fields take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        emailNotifier = try container.decodeIfPresent(Int.self, forKey: .emailNotifier)
        smsNotifier = try container.decodeIfPresent(Int.self, forKey: .smsNotifier)
        otpCodeLength = try container.decodeIfPresent(Int.self, forKey: .otpCodeLength) ?? 5
        otpTtlSeconds = try container.decodeIfPresent(Int.self, forKey: .otpTtlSeconds) ?? 120
    }

    /// Encodes the settings shape, writing absent notifiers as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(emailNotifier, forKey: .emailNotifier)
        try container.encode(smsNotifier, forKey: .smsNotifier)
        try container.encode(otpCodeLength, forKey: .otpCodeLength)
        try container.encode(otpTtlSeconds, forKey: .otpTtlSeconds)
    }
}

/// A project: the teams working on it, how unowned alerts fall through, ownership rules and routes.
public struct Project: Sendable, Hashable, Codable {
    /// The upstream id.
    public var id: String
    /// The organization the project belongs to.
    public var organization: String
    /// The URL-safe name events may use instead of the id.
    public var slug: String
    /// A display name.
    public var name: String?
    /// Ids of the teams with access to the project.
    public var teams: [String]
    /// Who hears an issue alert nobody owns.
    public var `fallthrough`: FallthroughChoice
    /// Ownership rule lines (`path:src/** #team`), in order; the last matching line wins.
    public var ownership: [String]
    /// Fixed targets for matching events.
    public var routes: [Route]
    /// Notifiers and passcode settings.
    public var settings: ProjectNotificationSettings

    /// Creates a project.
    public init(
        id: String,
        organization: String,
        slug: String,
        name: String? = nil,
        teams: [String] = [],
        `fallthrough`: FallthroughChoice = .activeMembers,
        ownership: [String] = [],
        routes: [Route] = [],
        settings: ProjectNotificationSettings = ProjectNotificationSettings()
    ) {
        self.id = id
        self.organization = organization
        self.slug = slug
        self.name = name
        self.teams = teams
        self.`fallthrough` = `fallthrough`
        self.ownership = ownership
        self.routes = routes
        self.settings = settings
    }

    private enum CodingKeys: String, CodingKey {
        case id, organization, slug, name, teams, `fallthrough`, ownership, routes, settings
    }

    /// Decodes the directory shape; absent lists are empty, fallthrough defaults to `activeMembers`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        organization = try container.decode(String.self, forKey: .organization)
        slug = try container.decode(String.self, forKey: .slug)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        teams = try container.decodeIfPresent([String].self, forKey: .teams) ?? []
        self.`fallthrough` =
            try container.decodeIfPresent(FallthroughChoice.self, forKey: .`fallthrough`) ?? .activeMembers
        ownership = try container.decodeIfPresent([String].self, forKey: .ownership) ?? []
        routes = try container.decodeIfPresent([Route].self, forKey: .routes) ?? []
        settings =
            try container.decodeIfPresent(ProjectNotificationSettings.self, forKey: .settings)
            ?? ProjectNotificationSettings()
    }

    /// Encodes the directory shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(organization, forKey: .organization)
        try container.encode(slug, forKey: .slug)
        try container.encode(name, forKey: .name)
        try container.encode(teams, forKey: .teams)
        try container.encode(self.`fallthrough`, forKey: .`fallthrough`)
        try container.encode(ownership, forKey: .ownership)
        try container.encode(routes, forKey: .routes)
        try container.encode(settings, forKey: .settings)
    }
}
