import HTTPTypes
import Hummingbird
import Synchronization

/// The routes the router holds, by path template, so a path that exists with other methods answers 405 with
/// `Allow` instead of 404, and so tests can compare the router with `openapi.yaml`.
public final class RouteTable: Sendable {
    /// One route: its template in OpenAPI form (`/api/v1/users/{id}`) and its method.
    public struct Route: Sendable, Hashable, Comparable {
        public var path: String
        public var method: HTTPRequest.Method

        public static func < (left: Route, right: Route) -> Bool {
            (left.path, left.method.rawValue) < (right.path, right.method.rawValue)
        }
    }

    private let storage = Mutex<[Route]>([])

    public init() {}

    /// Every route, sorted.
    public var routes: [Route] { storage.withLock { $0 } }

    /// Records the router's routes once it is complete.
    func fill(from router: Router<APIRequestContext>) {
        let routes = router.routes.map { Route(path: $0.path.description, method: $0.method) }.sorted()
        storage.withLock { $0 = routes }
    }

    /// The methods of the routes whose template matches `path`.
    public func methods(matching path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let matching = storage.withLock { routes in
            routes.filter { route in
                let template = route.path.split(separator: "/", omittingEmptySubsequences: true)
                guard template.count == segments.count else { return false }
                return zip(template, segments).allSatisfy { pattern, segment in
                    (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
                }
            }
        }
        var seen = Set<String>()
        return matching.map(\.method).filter { seen.insert($0.rawValue).inserted }
    }
}

extension RouteTable {
    /// The template of the route serving `method` on `path`, if any (literal segments win over captures).
    public func template(for path: String, method: HTTPRequest.Method) -> String? {
        let segments = path.split(separator: "?", maxSplits: 1)[0].split(
            separator: "/",
            omittingEmptySubsequences: true
        )
        let candidates = routes.filter { $0.method == method }.compactMap { route -> (String, Int)? in
            let template = route.path.split(separator: "/", omittingEmptySubsequences: true)
            guard template.count == segments.count else { return nil }
            var literal = 0
            for (pattern, segment) in zip(template, segments) {
                if pattern.hasPrefix("{") && pattern.hasSuffix("}") { continue }
                guard pattern == segment else { return nil }
                literal += 1
            }
            return (route.path, literal)
        }
        return candidates.max { $0.1 < $1.1 }?.0
    }
}
