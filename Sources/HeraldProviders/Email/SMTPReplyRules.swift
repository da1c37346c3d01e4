import HeraldCore

/// Classifies the result of an SMTP transaction (providers.md §5.2, §5.3 and the SMTP rows of §8).
///
/// libcurl reports the failing stage as a CURLcode and the last reply code beside it; the reply code
/// decides whenever there is one:
///
/// | reply | class | reason |
/// |---|---|---|
/// | 421 (service closing), 452 (too many recipients, no storage) | retry | `rateLimited`: the relay sheds load |
/// | 450, 451 (mailbox busy, greylisting, local error), 454 (TLS or auth unavailable), other 4yz | retry | `serverError` |
/// | 552 | retry | `serverError`: on RCPT it means "too many recipients" (RFC 5321 §4.5.3.1.10), and libcurl does not say which command failed; a message too big for the relay fails again later and dead-letters when the email retry window (24 h) closes |
/// | 530, 534, 535, 538 (auth or encryption required, weak mechanism, bad credentials) | permanent | `authentication` |
/// | 500–504 (syntax, sequence: a bug on our side) | permanent | `clientError` |
/// | 550, 551, 553 (mailbox unavailable, not local, bad address) | permanent | `invalidPayload`: the recipient address |
/// | 554 and other 5yz (transaction failed, policy) | permanent | `clientError` |
///
/// Without a reply code the failure kind decides: `LOGIN_DENIED` is `authentication`, TLS policy and
/// certificate problems and bad options are `configuration`, and connection failures and timeouts are
/// retried (ambiguous once the body was sent; the stable `Message-ID` lets duplicates be recognised).
enum SMTPReplyRules {
    /// The outcome of `failure`; `secrets` are scrubbed from the detail.
    static func classify(_ failure: TransportFailure, secrets: [String]) -> DeliveryError {
        let code = failure.responseCode.flatMap { $0 > 0 ? $0 : nil }
        let detail = ErrorDetail.sanitize(
            "smtp" + (code.map { " \($0)" } ?? "") + ": " + failure.message,
            secrets: secrets
        )
        switch failure.kind {
        case .tlsConfiguration, .configuration:
            return .permanent(.configuration, status: code, detail)
        default:
            break
        }
        // Without a usable reply code the failure kind decides, as for every transport.
        var byKind = failure.deliveryError
        byKind.detail = detail
        guard let code else { return byKind }
        if failure.kind == .authentication, code >= 500 {
            return .permanent(.authentication, status: code, detail)
        }
        switch code {
        case 421, 452:
            return .retry(.rateLimited, status: code, detail)
        case 552, 400..<500:
            return .retry(.serverError, status: code, detail)
        case 530, 534, 535, 538:
            return .permanent(.authentication, status: code, detail)
        case 500...504:
            return .permanent(.clientError, status: code, detail)
        case 550, 551, 553:
            return .permanent(.invalidPayload, status: code, detail)
        case 505..<600:
            return .permanent(.clientError, status: code, detail)
        default:
            // A 2yz or 3yz with a failed transfer: the kind decides (a login refusal stays authentication).
            byKind.status = code
            return byKind
        }
    }
}
