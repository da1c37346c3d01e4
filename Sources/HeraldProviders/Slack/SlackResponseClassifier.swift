import Foundation
import HeraldCore

/// Turns Slack's answers into delivery outcomes (providers.md §1.1, §1.2, §8).
///
/// When the delivery is known, its address says which API answered (an `http(s)://` address is an incoming
/// webhook). Without it, the body tells them apart: the Web API answers with a JSON object carrying `ok`, an
/// incoming webhook with plain text (`ok`, or an error string such as `no_service`).
struct SlackResponseClassifier: Sendable {
    /// Secrets to scrub from details (the bot token).
    var secrets: [String]

    /// Classifies one HTTP response received at `now`; `webhook` is nil when the API is not known.
    func classify(_ response: HTTPResponse, webhook: Bool? = nil, now: Date) -> DeliveryOutcome {
        switch webhook {
        case true?:
            return classifyWebhook(response, now: now)
        case false?:
            if let api = SlackAPIResponse(body: response.body) {
                return classifyAPI(response, api, now: now)
            }
            // The Web API always answers in JSON; anything else came from Slack's edge or a proxy (§8: retry).
            let detail = ErrorDetail.sanitize(
                "slack api HTTP \(response.status): response is not JSON",
                secrets: secrets
            )
            if response.status == 429 {
                return .failed(.retry(.rateLimited, status: 429, notBefore: retryAfter(response, now), detail))
            }
            if response.status >= 400 && response.status < 500 {
                return classifyStatus(response, now: now, detail: detail)
            }
            return .failed(.retry(.serverError, status: response.status, notBefore: retryAfter(response, now), detail))
        case nil:
            if let api = SlackAPIResponse(body: response.body) {
                return classifyAPI(response, api, now: now)
            }
            return classifyWebhook(response, now: now)
        }
    }

    // MARK: - Web API

    private func classifyAPI(_ response: HTTPResponse, _ api: SlackAPIResponse, now: Date) -> DeliveryOutcome {
        let status = response.status
        if api.ok, (200..<300).contains(status) {
            // Warnings (`missing_charset`, `message_truncated`) come with ok:true and do not fail a delivery.
            return .delivered(receipt: api.ts)
        }
        let detail = apiDetail(api, status: status)
        if status == 429 {
            return .failed(.retry(.rateLimited, status: status, notBefore: retryAfter(response, now), detail))
        }
        if let code = api.error, let rule = SlackErrorCodes.api[code] {
            return .failed(apply(rule, response: response, now: now, detail: detail))
        }
        return classifyStatus(response, now: now, detail: detail)
    }

    private func apiDetail(_ api: SlackAPIResponse, status: Int) -> String {
        var text = "slack api"
        if status != 200 { text += " HTTP \(status)" }
        if let error = api.error {
            text += ": " + error
        } else if !api.ok {
            text += ": ok=false without an error code"
        }
        if let message = api.messages.first { text += " (\(message))" }
        return ErrorDetail.sanitize(text, secrets: secrets)
    }

    // MARK: - Incoming webhooks

    private func classifyWebhook(_ response: HTTPResponse, now: Date) -> DeliveryOutcome {
        let status = response.status
        let body = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        // Hook URLs are credentials: mask path-like words in case the body echoes the URL.
        let detail = ErrorDetail.sanitize(
            "slack webhook HTTP \(status): " + (body.isEmpty ? "(empty body)" : body),
            secrets: secrets,
            maskPaths: true
        )
        if status == 429 {
            return .failed(.retry(.rateLimited, status: status, notBefore: retryAfter(response, now), detail))
        }
        if status == 200 {
            // Delivered only on exactly `ok`; any other 200 body means Slack did not post it.
            if body == "ok" { return .delivered(receipt: nil) }
            if let rule = SlackErrorCodes.webhook[body] {
                return .failed(apply(rule, response: response, now: now, detail: detail))
            }
            return .failed(.permanent(.invalidPayload, status: status, detail))
        }
        if let rule = SlackErrorCodes.webhook[body] {
            return .failed(apply(rule, response: response, now: now, detail: detail))
        }
        return classifyStatus(response, now: now, detail: detail)
    }

    // MARK: - Shared

    /// Statuses no error string explained.
    private func classifyStatus(_ response: HTTPResponse, now: Date, detail: String) -> DeliveryOutcome {
        let status = response.status
        switch status {
        case 500..<600:
            return .failed(.retry(.serverError, status: status, notBefore: retryAfter(response, now), detail))
        case 400, 413:
            return .failed(.permanent(.invalidPayload, status: status, detail))
        case 401, 403:
            return .failed(.permanent(.authentication, status: status, detail))
        case 404, 410:
            return .failed(.permanent(.configuration, status: status, detail))
        case 300..<400:
            return .failed(.permanent(.configuration, status: status, detail))
        default:
            // Unknown codes and statuses (ok:false with a new code, a 2xx without `ok`): review, never loop.
            return .failed(.permanent(.clientError, status: status, detail))
        }
    }

    private func apply(_ rule: SlackErrorRule, response: HTTPResponse, now: Date, detail: String) -> DeliveryError {
        let status = response.status
        switch rule {
        case .permanent(let reason):
            return .permanent(reason, status: status, detail)
        case .retry(let reason, let ambiguous):
            return .retry(reason, status: status, notBefore: retryAfter(response, now), detail, ambiguous: ambiguous)
        case .retryLater(let reason):
            let floor = now.addingTimeInterval(SlackErrorCodes.longDelay)
            let notBefore = max(floor, retryAfter(response, now) ?? floor)
            return .retry(reason, status: status, notBefore: notBefore, detail)
        }
    }

    private func retryAfter(_ response: HTTPResponse, _ now: Date) -> Date? {
        RetryAfter.parse(response.retryAfter, now: now)
    }
}

/// The parts of a Web API response Herald reads: `{"ok":…,"error":…,"ts":…,"response_metadata":…}`.
struct SlackAPIResponse: Sendable, Hashable {
    var ok: Bool
    var error: String?
    var ts: String?
    /// Validation messages (`response_metadata.messages`), e.g. a JSON pointer into `blocks`.
    var messages: [String]

    /// Parses `body`; nil when it is not a JSON object with a boolean `ok` (then it is a webhook answer).
    init?(body: Data) {
        guard body.first(where: { !Self.isWhitespace($0) }) == UInt8(ascii: "{"),
            let value = try? JSONValue.parse(body),
            let ok = value["ok"]?.boolValue
        else { return nil }
        self.ok = ok
        self.error = value["error"]?.stringValue
        self.ts = value["ts"]?.stringValue
        self.messages = value["response_metadata"]?["messages"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
