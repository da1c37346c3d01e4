import Foundation
import HeraldCore

/// Sends text messages through a Twilio-compatible Messages API (SPEC §9, providers.md §4).
///
/// The body is one short line and a link, cut to the notifier's segment budget with GSM-7 and UCS-2
/// counted as carriers count them. The auth token never appears in labels, logs or error details.
public struct SMSProvider: Provider {
    /// The notifier this provider serves.
    public let notifier: NotifierInfo
    private let connection: SMSConnection
    private let templates: TemplateLibrary?

    /// Creates the provider of one SMS notifier; `templates` supplies the text of custom keys (SPEC §3.3).
    public init(notifier: NotifierInfo, connection: SMSConnection, templates: TemplateLibrary? = nil) {
        self.notifier = notifier
        self.connection = connection
        self.templates = templates
    }

    /// The pacing key is the sender (a long code sends about one segment a second): the Messaging Service
    /// SID or the `From` number, else the account. None of them is a secret.
    public func destination(for recipient: Recipient) -> Destination {
        let key = connection.sender?.value ?? connection.accountSid
        return Destination(key: key, label: key)
    }

    /// Renders the form body `To`, `From` or `MessagingServiceSid`, `Body`. Throws `SMSRenderError` when the
    /// recipient is not an E.164 number or the notifier has no sender.
    public func render(_ input: RenderInput) throws -> RenderedMessage {
        let to = input.recipient.address
        if let problem = AddressValidator.phoneProblem(to) {
            throw SMSRenderError.invalidNumber(problem)
        }
        guard let sender = connection.sender else {
            throw SMSRenderError.noSender(notifier: notifier.name)
        }
        var content = NeutralContent(input)
        var truncations = content.applyTemplate(templates, channel: .sms, input: input)
        let templated =
            truncations.isEmpty && !input.entry.builtIn
            && templates?.hasTemplate(key: input.event.key, channel: .sms) == true
        let text = SMSProvider.text(
            for: content,
            templated: templated,
            prefix: input.context.subjectPrefix,
            budget: connection.segmentBudget
        )
        if text.wasTruncated {
            truncations.append(
                "sms body cut to \(max(1, connection.segmentBudget)) \(text.encoding.rawValue) segments"
            )
        }
        let form = FormURLEncoding.encode([("To", to), (sender.field, sender.value), ("Body", text.text)])
        return RenderedMessage(body: Data(form.utf8), contentType: SMSProvider.contentType, truncations: truncations)
    }

    /// POSTs the stored form to `{apiURL}/2010-04-01/Accounts/{accountSid}/Messages.json` with HTTP Basic
    /// authentication (`accountSid:authToken`).
    public func request(for delivery: Delivery) throws(DeliveryError) -> OutboundRequest {
        let sid = connection.accountSid
        guard !sid.isEmpty, sid.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .permanent(.configuration, "the accountSid of SMS notifier \(notifier.name) is not an account SID")
        }
        guard !connection.authToken.isEmpty else {
            throw .permanent(.authentication, "no auth token configured for SMS notifier \(notifier.name)")
        }
        if let problem = AddressValidator.urlProblem(connection.apiURL) {
            throw .permanent(.configuration, "the apiURL of SMS notifier \(notifier.name) \(problem)")
        }
        var base = connection.apiURL
        while base.hasSuffix("/") { base.removeLast() }
        let credentials = basicCredentials
        let contentType = delivery.contentType.isEmpty ? SMSProvider.contentType : delivery.contentType
        return .http(
            HTTPRequest(
                url: "\(base)/2010-04-01/Accounts/\(sid)/Messages.json",
                headers: [
                    HTTPHeader("Content-Type", contentType),
                    HTTPHeader("Accept", "application/json"),
                    HTTPHeader("Authorization", "Basic \(credentials)"),
                ],
                body: delivery.payload
            )
        )
    }

    /// Classifies a Twilio answer (providers.md §8); the receipt is the message `sid`.
    public func classify(_ result: AttemptResult, now: Date) -> DeliveryOutcome {
        switch result {
        case .http(.response(let response)):
            return SMSResponseClassifier(secrets: secrets).classify(response, now: now)
        case .http(.failure(let failure)):
            return .failed(ErrorDetail.sanitize(failure.deliveryError, secrets: secrets))
        case .mail:
            return .failed(.permanent(.configuration, "an SMTP result reached the SMS notifier \(notifier.name)"))
        }
    }

    /// Whether `error` says the recipient unsubscribed from this sender (Twilio 21610, a STOP reply): the
    /// worker should stop texting the number until they opt back in with START.
    public static func isSuppression(_ error: DeliveryError) -> Bool {
        error.disposition == .permanent && error.suppressesAddress
    }

    /// The body line and link of `content`, fitted to `budget` segments: `<prefix> <summary>: <link>`, or a
    /// custom key's template text as written (plus the link unless the text has it already).
    static func text(for content: NeutralContent, templated: Bool, prefix: String, budget: Int) -> SMSText {
        if templated, let text = content.body {
            let link = content.url.flatMap { text.contains($0) ? nil : $0 }
            return SMSText(line: text, link: link, budget: budget)
        }
        let prefix = prefix.trimmingCharacters(in: .whitespaces)
        let sentence = content.summary ?? content.title
        let line = prefix.isEmpty ? sentence : prefix + " " + sentence
        return SMSText(line: line, link: content.url, budget: budget)
    }

    /// How the detail of an unsubscribed recipient's error starts.
    static let suppressionPrefix = "suppressed:"

    /// `application/x-www-form-urlencoded` (Twilio does not take JSON).
    static let contentType = "application/x-www-form-urlencoded"

    /// `accountSid:authToken` in base64, as the `Authorization` header carries it.
    private var basicCredentials: String {
        Data("\(connection.accountSid):\(connection.authToken)".utf8).base64EncodedString()
    }

    /// The token, and the header value that encodes it (a proxy or server may echo the header).
    private var secrets: [String] {
        [connection.authToken, basicCredentials]
    }
}
