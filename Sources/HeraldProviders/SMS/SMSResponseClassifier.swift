import Foundation
import HeraldCore

/// Turns Twilio Messages API answers into delivery outcomes (providers.md §4, §8).
///
/// A 201 with a `sid` means Twilio queued the message; the final result arrives later by status callback.
/// Errors are classified on Twilio's `code`, falling back to the HTTP status.
struct SMSResponseClassifier: Sendable {
    /// Secrets to scrub from details (the auth token).
    var secrets: [String]

    /// Classifies one HTTP response received at `now`.
    func classify(_ response: HTTPResponse, now: Date) -> DeliveryOutcome {
        let status = response.status
        let answer = TwilioAnswer(body: response.body)
        let retryAfter = RetryAfter.parse(response.retryAfter, now: now)
        if (200..<300).contains(status) {
            if let sid = answer?.sid, !sid.isEmpty { return .delivered(receipt: sid) }
            // Accepted without a message id: nothing to track, and resending could duplicate.
            return .failed(.permanent(.clientError, status: status, detail(status: status, answer, response)))
        }
        if let code = answer?.code, let rule = TwilioErrorCodes.rules[code] {
            return .failed(apply(rule, status: status, retryAfter: retryAfter, now: now, answer, response))
        }
        let detail = detail(status: status, answer, response)
        switch status {
        case 429:
            return .failed(.retry(.rateLimited, status: status, notBefore: retryAfter, detail))
        case 500..<600:
            // Twilio may have queued the message before failing: a retry can send it twice.
            return .failed(.retry(.serverError, status: status, notBefore: retryAfter, detail, ambiguous: true))
        case 401, 403:
            return .failed(.permanent(.authentication, status: status, detail))
        case 404, 300..<400:
            return .failed(.permanent(.configuration, status: status, detail))
        case 413:
            return .failed(.permanent(.invalidPayload, status: status, detail))
        default:
            return .failed(.permanent(.clientError, status: status, detail))
        }
    }

    private func apply(
        _ rule: TwilioErrorRule,
        status: Int,
        retryAfter: Date?,
        now: Date,
        _ answer: TwilioAnswer?,
        _ response: HTTPResponse
    ) -> DeliveryError {
        let detail = detail(status: status, answer, response)
        switch rule {
        case .permanent(let reason):
            return .permanent(reason, status: status, detail)
        case .unsubscribed:
            let text = SMSProvider.suppressionPrefix + " recipient replied STOP (\(TwilioErrorCodes.unsubscribed))"
            var error = DeliveryError.permanent(
                .clientError,
                status: status,
                ErrorDetail.sanitize(text, secrets: secrets)
            )
            // The number opted out: the send stage records it so no later fan-out messages it again.
            error.suppressesAddress = true
            return error
        case .retry(let reason):
            return .retry(reason, status: status, notBefore: retryAfter, detail)
        case .retryLater(let reason):
            let floor = now.addingTimeInterval(TwilioErrorCodes.longDelay)
            return .retry(reason, status: status, notBefore: max(floor, retryAfter ?? floor), detail)
        }
    }

    /// `twilio HTTP 400 code 21211: The 'To' number … is not a valid phone number.`
    private func detail(status: Int, _ answer: TwilioAnswer?, _ response: HTTPResponse) -> String {
        var text = "twilio HTTP \(status)"
        if let code = answer?.code { text += " code \(code)" }
        if let message = answer?.message {
            text += ": " + message
        } else if answer == nil {
            let body = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
            if !body.isEmpty { text += ": " + body }
        }
        return ErrorDetail.sanitize(text, secrets: secrets)
    }
}

/// The parts of a Twilio answer Herald reads: the Message resource (`sid`, `status`) or an error
/// (`code`, `message`, `more_info`, `status`).
struct TwilioAnswer: Sendable, Hashable {
    var sid: String?
    var code: Int?
    var message: String?

    /// Parses `body`; nil when it is not a JSON object.
    init?(body: Data) {
        guard let value = try? JSONValue.parse(body), value.objectValue != nil else { return nil }
        sid = value["sid"]?.stringValue
        if let number = value["code"]?.numberValue {
            code = Int(exactly: number)
        } else {
            code = value["code"]?.stringValue.flatMap { Int($0) }
        }
        message = value["message"]?.stringValue
    }
}
