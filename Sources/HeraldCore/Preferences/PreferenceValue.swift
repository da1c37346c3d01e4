/// A notification setting value (SPEC §8.1).
public enum PreferenceValue: String, Sendable, Hashable, Codable, CaseIterable {
    /// Everything of the type or key.
    case always
    /// Nothing of the type or key, on any channel.
    case never
    /// Only issues the recipient subscribes to (workflow only).
    case subscribeOnly
    /// Only deploys carrying one of the recipient's commits (deploy only).
    case committedOnly

    /// The value a type starts from when no row says otherwise: workflow `subscribeOnly`, deploy
    /// `committedOnly`, alerts and every custom type `always`.
    public static func typeDefault(for type: NotificationType) -> PreferenceValue {
        switch type {
        case .workflow: .subscribeOnly
        case .deploy: .committedOnly
        default: .always
        }
    }

    /// The option values a type accepts: workflow adds `subscribeOnly`, deploy adds `committedOnly`.
    public static func allowedValues(for type: NotificationType) -> [PreferenceValue] {
        switch type {
        case .workflow: [.always, .subscribeOnly, .never]
        case .deploy: [.always, .committedOnly, .never]
        default: [.always, .never]
        }
    }

    /// Whether this value is a valid option value for `type`.
    public func isAllowed(for type: NotificationType) -> Bool {
        PreferenceValue.allowedValues(for: type).contains(self)
    }
}

/// The scope a preference row applies at, from least to most specific.
public enum PreferenceScope: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// The owner's global setting (scope id = the user's or team's own id).
    case user
    /// One organization (scope id = organization id).
    case organization
    /// One project (scope id = project id).
    case project

    /// Orders scopes by specificity: user < organization < project.
    public static func < (lhs: PreferenceScope, rhs: PreferenceScope) -> Bool {
        lhs.rank < rhs.rank
    }

    /// 0 for user, 1 for organization, 2 for project.
    public var rank: Int {
        switch self {
        case .user: 0
        case .organization: 1
        case .project: 2
        }
    }
}
