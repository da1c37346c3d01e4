import HTTPTypes
import HeraldCore
import Hummingbird
import Logging

/// Renders every error as the §11 envelope: API errors as they are, unknown routes as 404, a known path with
/// the wrong method as 405 with `Allow`, store trouble as 503; anything else is logged as a bug (500).
public struct ErrorEnvelopeMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext
    let routes: RouteTable

    public init(routes: RouteTable) {
        self.routes = routes
    }

    public func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError.from(error)
            if apiError.status == .notFound, context.endpointPath == "NotFound" || context.endpointPath == nil {
                let methods = routes.methods(matching: request.uri.path)
                if !methods.isEmpty {
                    var headers = HTTPFields()
                    headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
                    apiError = APIError(
                        .methodNotAllowed,
                        .methodNotAllowed,
                        "\(request.method.rawValue) is not allowed here; use \(headers[.allow] ?? "")",
                        headers: headers
                    )
                } else {
                    apiError = APIError(.notFound, .notFound, "no route for \(request.method.rawValue) this path")
                }
            }
            if apiError.status == .internalServerError {
                context.logger.error("request failed", metadata: ["error": "\(String(describing: error).prefix(500))"])
            }
            return apiError.response(requestId: context.requestId)
        }
    }
}
