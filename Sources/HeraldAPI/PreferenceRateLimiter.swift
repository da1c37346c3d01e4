import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird
import Synchronization

/// Limits each principal to `limit` requests per minute on the preference routes (SPEC §11.1), on an injected
/// clock. Each principal has a fixed one-minute window starting at its first request in it; over the limit →
/// 429 `RATE_LIMITED` with `Retry-After`. Every answer carries `RateLimit-Limit/-Remaining/-Reset`.
public final class PreferenceRateLimiter: Sendable {
    public let limit: Int
    let window: TimeInterval = 60
    let clock: any WallClock
    private let windows = Mutex<[String: (start: Date, count: Int)]>([:])

    public init(limit: Int, clock: any WallClock) {
        self.limit = max(1, limit)
        self.clock = clock
    }

    /// The decision for one request by `key`.
    struct Decision {
        var allowed: Bool
        var remaining: Int
        /// Seconds until the window resets (at least 1).
        var reset: Int
    }

    func admit(_ key: String) -> Decision {
        let now = clock.now()
        return windows.withLock { windows in
            if windows.count > 100_000 {
                windows = windows.filter { now.timeIntervalSince($0.value.start) < window }
            }
            var entry = windows[key] ?? (start: now, count: 0)
            if now.timeIntervalSince(entry.start) >= window || now < entry.start {
                entry = (start: now, count: 0)
            }
            let reset = max(1, Int((entry.start.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up)))
            guard entry.count < limit else {
                windows[key] = entry
                return Decision(allowed: false, remaining: 0, reset: reset)
            }
            entry.count += 1
            windows[key] = entry
            return Decision(allowed: true, remaining: limit - entry.count, reset: reset)
        }
    }
}

/// Applies `PreferenceRateLimiter` to the routes of a group; anonymous requests pass (the route answers 401).
public struct PreferenceRateLimitMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext
    let limiter: PreferenceRateLimiter

    public init(limiter: PreferenceRateLimiter) {
        self.limiter = limiter
    }

    public func handle(
        _ request: Request,
        context: APIRequestContext,
        next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        guard case .principal(let principal) = context.authentication else {
            return try await next(request, context)
        }
        let decision = limiter.admit(principal.label)
        var headers = HTTPFields()
        headers[.rateLimitLimit] = String(limiter.limit)
        headers[.rateLimitRemaining] = String(decision.remaining)
        headers[.rateLimitReset] = String(decision.reset)
        guard decision.allowed else {
            headers[.retryAfter] = String(decision.reset)
            throw APIError(
                .tooManyRequests,
                .rateLimited,
                "more than \(limiter.limit) preference requests in a minute; retry in \(decision.reset) s",
                headers: headers
            )
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            var apiError = APIError.from(error)
            for field in headers { apiError.headers.append(field) }
            throw apiError
        }
        for field in headers { response.headers.append(field) }
        return response
    }
}
