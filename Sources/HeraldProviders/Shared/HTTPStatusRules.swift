import Foundation
import HeraldCore

/// The status-code rules shared by providers that answer with plain HTTP semantics (generic webhooks,
/// Teams Workflows): 2xx delivered, 408/429/5xx retried, the rest permanent (providers.md §7, §8).
enum HTTPStatusRules {
    /// Classifies `response` by its status alone.
    /// - Parameters:
    ///   - detail: the redacted text to attach to a failure (status line, body excerpt).
    ///   - receipt: the provider's id for a delivered message, when it has one.
    static func classify(
        _ response: HTTPResponse,
        now: Date,
        detail: String,
        receipt: String? = nil
    ) -> DeliveryOutcome {
        let status = response.status
        switch status {
        case 200..<300:
            return .delivered(receipt: receipt)
        case 408:
            return .failed(.retry(.timeout, status: status, notBefore: retryAfter(response, now), detail))
        case 429:
            return .failed(.retry(.rateLimited, status: status, notBefore: retryAfter(response, now), detail))
        case 500..<600:
            // The server may have acted before failing, so a retry can duplicate.
            return .failed(
                .retry(.serverError, status: status, notBefore: retryAfter(response, now), detail, ambiguous: true)
            )
        case 401, 403, 404, 410:
            // Credentials refused, or the endpoint is gone: the destination needs an operator.
            return .failed(.permanent(.configuration, status: status, detail))
        case 300..<400:
            // Redirects are not followed: the configured URL is stale.
            return .failed(.permanent(.configuration, status: status, detail))
        default:
            // Other 4xx and anything unexpected: never loop on it.
            return .failed(.permanent(.clientError, status: status, detail))
        }
    }

    /// The `Retry-After` of `response` as an absolute time, when present and valid.
    static func retryAfter(_ response: HTTPResponse, _ now: Date) -> Date? {
        RetryAfter.parse(response.retryAfter, now: now)
    }
}
