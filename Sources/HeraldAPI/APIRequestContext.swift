import Hummingbird
import Logging

/// The request context of every API route: the request id and, once authenticated, the principal.
///
/// `RequestIdMiddleware` sets `requestId` (and tags the logger with it), `AuthenticationMiddleware` sets
/// `authentication`; handlers ask for what they need with `requirePrincipal(_:)` / `requireUser(_:)`.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The correlation id answered in `X-Request-Id` and logged with every line of the request.
    public var requestId: String = ""
    /// What the `Authorization` header said.
    public var authentication: Authentication = .none

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// The outcome of reading the `Authorization` header.
    public enum Authentication: Sendable, Hashable {
        /// No header.
        case none
        /// A header that did not authenticate, with the reason (safe to show: never the credential).
        case invalid(String)
        /// An authenticated principal.
        case principal(Principal)
    }

    /// The principal, when it holds one of `scopes` (or any principal when `scopes` is empty).
    ///
    /// - Throws: 401 without a valid credential, 403 when none of `scopes` is held.
    public func requirePrincipal(_ scopes: APIScope...) throws(APIError) -> Principal {
        let principal: Principal
        switch authentication {
        case .none: throw .unauthorized("an Authorization: Bearer token is required")
        case .invalid(let reason): throw .unauthorized(reason)
        case .principal(let value): principal = value
        }
        guard scopes.isEmpty || scopes.contains(where: principal.has) else {
            throw .forbidden("requires the scope \(scopes.map(\.rawValue).joined(separator: " or "))")
        }
        if case .user = principal, !scopes.isEmpty,
            !scopes.contains(.preferencesRead), !scopes.contains(.preferencesWrite)
        {
            throw .forbidden("a user token may only read and write its own preferences")
        }
        return principal
    }

    /// The user whose rows a preference route acts on: `me` or an id for a user JWT (their own id only);
    /// any id for a token with `scope`.
    ///
    /// - Throws: 401/403 as `requirePrincipal`, 403 when a user JWT names another user, 400 for `me` with a token.
    public func requireUser(_ pathId: String, scope: APIScope) throws(APIError) -> String {
        let principal = try requirePrincipal(scope)
        switch principal {
        case .user(let id):
            guard pathId == "me" || pathId == id else {
                throw .forbidden("a user token may only act on its own rows")
            }
            return id
        case .token:
            guard pathId != "me" else {
                throw .invalid("id", "\"me\" needs a user token; name the user with an API token")
            }
            return pathId
        }
    }
}
