/// What an API token may do (SPEC §11.1); a token holds a set of them in configuration.
public enum APIScope: String, Sendable, Hashable, CaseIterable, Codable {
    case eventsWrite = "events:write"
    case eventsRead = "events:read"
    case directoryWrite = "directory:write"
    case directoryRead = "directory:read"
    case preferencesRead = "preferences:read"
    case preferencesWrite = "preferences:write"
    case settingsWrite = "settings:write"
    case deliveriesWrite = "deliveries:write"
    case otpWrite = "otp:write"
    /// Everything.
    case admin
}

/// Who is calling: an API token of the configuration or an end user identified by a JWT.
public enum Principal: Sendable, Hashable {
    /// A static API token: its configured name and scopes.
    case token(name: String, scopes: Set<APIScope>)
    /// An end user (the JWT's `sub`), acting on their own rows with `preferences:*` only.
    case user(id: String)

    /// A label safe for logs and rate-limit keys (never the token itself).
    public var label: String {
        switch self {
        case .token(let name, _): "token:\(name)"
        case .user(let id): "user:\(id)"
        }
    }

    /// Whether the principal holds `scope` (admin holds every scope; a user holds the preference scopes).
    public func has(_ scope: APIScope) -> Bool {
        switch self {
        case .token(_, let scopes): scopes.contains(scope) || scopes.contains(.admin)
        case .user: scope == .preferencesRead || scope == .preferencesWrite
        }
    }
}
