import Foundation
import HeraldCore

/// Turns Events API answers into delivery outcomes (providers.md §2, §8).
///
/// Every retry is safe: PagerDuty applies events with the same `dedup_key` to the same alert. Vendor
/// reference: https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
struct PagerDutyResponseClassifier: Sendable {
    /// The shortest wait after a 429: PagerDuty asks for minutes-scale backoff, and its limit is a 60 s
    /// sliding window per routing key.
    static let rateLimitFloor: TimeInterval = 60

    /// Classifies one HTTP response received at `now`.
    func classify(_ response: HTTPResponse, now: Date) -> DeliveryOutcome {
        let status = response.status
        let answer = PagerDutyAnswer(body: response.body)
        let detail = Self.detail(status: status, answer: answer, body: response.bodyText)
        let retryAfter = RetryAfter.parse(response.retryAfter, now: now)
        switch status {
        case 202:
            // Accepted for processing: not proof an incident opened, since event rules can suppress it.
            return .delivered(receipt: answer?.dedupKey)
        case 200..<300:
            if answer?.status == "success" { return .delivered(receipt: answer?.dedupKey) }
            return .failed(.permanent(.clientError, status: status, detail))
        case 429:
            // Throttled, not ingested. Wait at least a minute, longer if PagerDuty says so.
            let floor = now.addingTimeInterval(Self.rateLimitFloor)
            let notBefore = max(floor, retryAfter ?? floor)
            return .failed(.retry(.rateLimited, status: status, notBefore: notBefore, detail))
        case 500..<600:
            return .failed(.retry(.serverError, status: status, notBefore: retryAfter, detail))
        case 400, 413:
            // An invalid or oversized event: resending the same bytes cannot help.
            return .failed(.permanent(.invalidPayload, status: status, detail))
        case 401, 403:
            return .failed(.permanent(.authentication, status: status, detail))
        case 404, 410, 300..<400:
            // The events URL is wrong or stale.
            return .failed(.permanent(.configuration, status: status, detail))
        default:
            return .failed(.permanent(.clientError, status: status, detail))
        }
    }

    /// `pagerduty HTTP 400: invalid event: Event object is invalid; errors: …`, routing keys masked.
    static func detail(status: Int, answer: PagerDutyAnswer?, body: String) -> String {
        var text = "pagerduty HTTP \(status)"
        if let answer {
            let parts = [answer.status, answer.message].compactMap { $0 }
            if !parts.isEmpty { text += ": " + parts.joined(separator: ": ") }
            if !answer.errors.isEmpty { text += "; errors: " + answer.errors.joined(separator: "; ") }
        } else {
            let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { text += ": " + trimmed }
        }
        return ErrorDetail.sanitize(maskRoutingKeys(text))
    }

    /// Replaces every run of exactly 32 ASCII letters and digits (the shape of a routing key) with
    /// `[REDACTED]`: PagerDuty's validation messages may quote the key, which is a credential.
    static func maskRoutingKeys(_ text: String) -> String {
        var output = ""
        var run = ""
        func flush() {
            output += run.count == 32 ? "[REDACTED]" : run
            run = ""
        }
        for character in text {
            if character.isASCII, character.isLetter || character.isNumber {
                run.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }
}

/// The parts of an Events API answer Herald reads:
/// `{"status":"success","message":"Event processed","dedup_key":"…"}` or
/// `{"status":"invalid event","message":"Event object is invalid","errors":["…"]}`.
struct PagerDutyAnswer: Sendable, Hashable {
    var status: String?
    var message: String?
    var dedupKey: String?
    var errors: [String]

    /// Parses `body`; nil when it is not a JSON object.
    init?(body: Data) {
        guard let value = try? JSONValue.parse(body), value.objectValue != nil else { return nil }
        status = value["status"]?.stringValue
        message = value["message"]?.stringValue
        dedupKey = value["dedup_key"]?.stringValue
        errors = value["errors"]?.arrayValue?.compactMap { $0.stringValue ?? $0.displayText } ?? []
    }
}
