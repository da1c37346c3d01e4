import Foundation
import HTTPTypes
import Hummingbird

/// Reads `Authorization: Bearer …` into the context. A missing header leaves the request anonymous and a bad
/// one records why; routes then require what they need (`APIRequestContext.requirePrincipal`), so public
/// routes (`/healthz`, `/metrics`) stay public. The credential is never logged.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext
    let authenticator: APIAuthenticator

    public init(authenticator: APIAuthenticator) {
        self.authenticator = authenticator
    }

    public func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        var context = context
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        if parts.count == 2, parts[0].lowercased() == "bearer" {
            do {
                let principal = try await authenticator.authenticate(
                    bearer: String(parts[1]).trimmingCharacters(in: .whitespaces)
                )
                context.authentication = .principal(principal)
                context.logger[metadataKey: "principal"] = .string(principal.label)
            } catch {
                context.authentication = .invalid(error.reason)
            }
        } else {
            context.authentication = .invalid("the Authorization header must be \"Bearer <token>\"")
        }
        return try await next(request, context)
    }
}
