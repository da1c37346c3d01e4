import Foundation
import Synchronization

/// Decides what the outbox answers and what it records, for every provider shape Herald sends.
///
/// Paths it serves (any prefix before them works too, so a notifier's `apiURL` can carry one):
/// `…/chat.postMessage` (Slack Web API), `/slack/…` (Slack incoming webhooks), `/teams/…` (Teams Workflows),
/// `…/v2/enqueue` (PagerDuty Events API v2), `…/Messages.json` (Twilio), `/webhook/…` (generic webhooks);
/// email arrives over SMTP. Each answer is the vendor's own success shape, so Herald's classifiers see a real
/// delivery.
///
/// A destination whose name contains `retry-once` answers the first attempt of each delivery with a retryable
/// failure (5xx, SMTP 451); one containing `dead-once` answers it with a permanent failure (4xx, SMTP 554),
/// which dead-letters the delivery; a replay of it then succeeds. Attempts are told apart by
/// `X-Herald-Delivery-Id`.
public final class OutboxRouter: Sendable {
    /// The destination-name markers that script a failure.
    public enum Script: String, Sendable, CaseIterable {
        /// The first attempt of each delivery fails with a retryable answer.
        case retryOnce = "retry-once"
        /// The first attempt of each delivery fails permanently (the delivery becomes a dead letter).
        case deadOnce = "dead-once"

        static func of(_ destination: String) -> Script? {
            let lower = destination.lowercased()
            return allCases.first { lower.contains($0.rawValue) }
        }
    }

    /// Deliveries whose scripted failure has been answered already.
    private let failed = Mutex(Set<String>())
    private let sequence = Atomic(0)

    /// Creates a router with no failure answered yet.
    public init() {}

    /// The answer to an HTTP request and the entry recording it.
    public func answer(_ request: RecordedRequest) -> (response: LocalHTTPResponse, entry: OutboxEntry) {
        let path = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.path
        let json = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any]
        var channel = "unknown"
        var destination = path
        var title = ""
        let success: LocalHTTPResponse
        let retry: LocalHTTPResponse
        let permanent: LocalHTTPResponse
        if path.hasSuffix("/chat.postMessage") {
            channel = "slack"
            destination = (json?["channel"] as? String) ?? "(no channel)"
            title = (json?["text"] as? String) ?? ""
            let ts = "\(1_700_000_000 + sequence.add(1, ordering: .relaxed).newValue).000100"
            success = .json(200, Self.encode(["ok": true, "channel": destination, "ts": ts]))
            retry = .status(503, body: "upstream unavailable (outbox: retry-once)")
            permanent = .json(200, Self.encode(["ok": false, "error": "channel_not_found"]))
        } else if path.hasPrefix("/slack/") {
            channel = "slack"
            destination = Self.lastComponent(path)
            title = (json?["text"] as? String) ?? ""
            success = .ok
            retry = .status(500, body: "internal_error")
            permanent = .status(400, body: "invalid_payload")
        } else if path.hasPrefix("/teams/") {
            channel = "msteams"
            destination = Self.lastComponent(path)
            title = Self.teamsTitle(json) ?? ""
            success = .status(202)
            retry = .status(503, body: "Service Unavailable (outbox: retry-once)")
            permanent = .status(400, body: "Bad Request (outbox: dead-once)")
        } else if path.hasSuffix("/v2/enqueue") {
            channel = "pagerduty"
            let key = (json?["routing_key"] as? String) ?? ""
            destination = key.count > 8 ? String(key.prefix(4)) + "…" + String(key.suffix(4)) : key
            let payload = json?["payload"] as? [String: Any]
            let action = (json?["event_action"] as? String) ?? "trigger"
            title = "[\(action)] " + ((payload?["summary"] as? String) ?? "")
            let dedup = (json?["dedup_key"] as? String) ?? UUID().uuidString
            success = .json(202, Self.encode(["status": "success", "message": "Event processed", "dedup_key": dedup]))
            retry = .status(500, body: "")
            permanent = .json(
                400,
                Self.encode(["status": "invalid event", "message": "Event object is invalid", "errors": ["outbox"]])
            )
        } else if path.hasSuffix("/Messages.json") {
            channel = "sms"
            let form = Self.form(request.bodyText)
            destination = form["To"] ?? "(no To)"
            title = form["Body"] ?? ""
            let sid =
                "SM" + String(repeating: "0", count: 20)
                + String(format: "%012d", sequence.add(1, ordering: .relaxed).newValue)
            success = .json(201, Self.encode(["sid": sid, "status": "queued", "to": destination]))
            retry = .status(503, body: "")
            permanent = .json(400, Self.encode(["code": 21211, "message": "Invalid 'To' Phone Number", "status": 400]))
        } else if path.hasPrefix("/webhook/") {
            channel = "webhook"
            destination = Self.lastComponent(path)
            let rendered = json?["rendered"] as? [String: Any]
            title = (rendered?["title"] as? String) ?? ""
            success = .json(200, Self.encode(["ok": true]))
            retry = .status(503, body: "")
            permanent = .status(400, body: "rejected (outbox: dead-once)")
        } else {
            let entry = makeEntry(
                channel: channel,
                destination: destination,
                title: "",
                status: 404,
                outcome: "not-found",
                eventId: request.header("X-Herald-Event-Id"),
                deliveryId: request.header("X-Herald-Delivery-Id"),
                request: "\(request.method) \(path)",
                body: request.bodyText
            )
            return (.status(404, body: "the outbox does not serve \(path)"), entry)
        }
        let deliveryId = request.header("X-Herald-Delivery-Id")
        let (response, outcome) = pick(
            script: Script.of(destination),
            key: deliveryId ?? "\(channel)|\(destination)|\(request.bodyText.hashValue)",
            success: success,
            retry: retry,
            permanent: permanent
        )
        let entry = makeEntry(
            channel: channel,
            destination: destination,
            title: title,
            status: Self.status(of: response),
            outcome: outcome,
            eventId: request.header("X-Herald-Event-Id"),
            deliveryId: deliveryId,
            request: "\(request.method) \(path)",
            body: request.bodyText
        )
        return (response, entry)
    }

    /// The reply to a complete email (nil accepts it) and the entry recording it.
    public func answer(_ mail: ReceivedMail) -> (reply: SMTPReply?, entry: OutboxEntry) {
        let headers = MailHeaders(mail.text)
        let destination = mail.envelopeTo.joined(separator: ",")
        let deliveryId = headers["X-Herald-Delivery-Id"]
        let (reply, outcome) = pick(
            script: Script.of(destination),
            key: deliveryId ?? "email|\(destination)|\(mail.text.hashValue)",
            success: nil as SMTPReply?,
            retry: SMTPReply(451, "4.3.0 Local error in processing (outbox: retry-once)"),
            permanent: SMTPReply(554, "5.3.0 Transaction failed (outbox: dead-once)")
        )
        let entry = makeEntry(
            channel: "email",
            destination: destination,
            title: headers["Subject"].map(EncodedWords.decode) ?? "",
            status: reply?.code ?? 250,
            outcome: outcome,
            eventId: headers["X-Herald-Event-Id"],
            deliveryId: deliveryId,
            request: "SMTP",
            body: mail.text
        )
        return (reply, entry)
    }

    private func pick<Answer>(
        script: Script?,
        key: String,
        success: Answer,
        retry: Answer,
        permanent: Answer
    ) -> (Answer, String) {
        guard let script, failed.withLock({ $0.insert(key).inserted }) else { return (success, "delivered") }
        switch script {
        case .retryOnce: return (retry, script.rawValue)
        case .deadOnce: return (permanent, script.rawValue)
        }
    }

    private func makeEntry(
        channel: String,
        destination: String,
        title: String,
        status: Int,
        outcome: String,
        eventId: String?,
        deliveryId: String?,
        request: String,
        body: String
    ) -> OutboxEntry {
        OutboxEntry(
            time: Self.timestamp(Date()),
            channel: channel,
            destination: destination,
            title: title.replacingOccurrences(of: "\n", with: " "),
            status: status,
            outcome: outcome,
            eventId: eventId,
            deliveryId: deliveryId,
            request: request,
            body: body
        )
    }

    private static func status(of response: LocalHTTPResponse) -> Int {
        switch response {
        case .status(let code, _, _), .json(let code, _): return code
        case .delay(_, let inner): return status(of: inner)
        case .reset, .noResponse: return 0
        }
    }

    private static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The first TextBlock of the Adaptive Card in a Workflows message.
    private static func teamsTitle(_ json: [String: Any]?) -> String? {
        guard let attachments = json?["attachments"] as? [[String: Any]],
            let content = attachments.first?["content"] as? [String: Any],
            let body = content["body"] as? [[String: Any]]
        else { return nil }
        return body.lazy.compactMap { $0["text"] as? String }.first
    }

    /// `application/x-www-form-urlencoded` fields.
    static func form(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            func decode(_ part: String) -> String {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? part
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    private static func encode(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
        )
    }
}

/// The header fields of an RFC 5322 message (unfolded), looked up case-insensitively.
struct MailHeaders {
    private var fields: [(name: String, value: String)] = []

    init(_ message: String) {
        for line in message.components(separatedBy: "\r\n") {
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t", !fields.isEmpty {
                fields[fields.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                fields.append(
                    (
                        String(line[..<colon]),
                        String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                    )
                )
            }
        }
    }

    subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) in a header value.
enum EncodedWords {
    static func decode(_ value: String) -> String {
        var words: [String] = []
        var decodedPrevious = false
        for token in value.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            if let decoded = decodeWord(token) {
                // RFC 2047 §6.2: white space between adjacent encoded words is dropped.
                if decodedPrevious, let last = words.popLast() {
                    words.append(last + decoded)
                } else {
                    words.append(decoded)
                }
                decodedPrevious = true
            } else {
                words.append(token)
                decodedPrevious = false
            }
        }
        return words.joined(separator: " ")
    }

    private static func decodeWord(_ token: String) -> String? {
        guard token.hasPrefix("=?"), token.hasSuffix("?="), token.count > 4 else { return nil }
        let parts = token.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let text = String(parts[2])
        switch parts[1].uppercased() {
        case "B":
            return Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) }
        case "Q":
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let character = text[index]
                if character == "_" {
                    bytes.append(0x20)
                } else if character == "=", let end = text.index(index, offsetBy: 3, limitedBy: text.endIndex),
                    let byte = UInt8(text[text.index(after: index)..<end], radix: 16)
                {
                    bytes.append(byte)
                    index = end
                    continue
                } else {
                    bytes.append(contentsOf: Array(String(character).utf8))
                }
                index = text.index(after: index)
            }
            return String(decoding: bytes, as: UTF8.self)
        default:
            return nil
        }
    }
}
