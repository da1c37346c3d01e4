/// How an SMS notifier reaches a Twilio-compatible Messages API (SPEC §14 `notifiers[].sms`).
public struct SMSConnection: Sendable, Hashable {
    /// Twilio's public API base.
    public static let defaultAPIURL = "https://api.twilio.com"

    /// The API base: messages are POSTed to `{apiURL}/2010-04-01/Accounts/{accountSid}/Messages.json`.
    public var apiURL: String
    /// The Account SID (`AC` and 32 hex digits): the path segment and the Basic-auth user name.
    public var accountSid: String
    /// The auth token (the Basic-auth password); a secret.
    public var authToken: String
    /// The sending number (E.164), short code or alphanumeric sender id; used when `messagingServiceSid`
    /// is not set.
    public var from: String?
    /// A Messaging Service (`MG…`) that picks the sender from its pool; preferred over `from` when both are set.
    public var messagingServiceSid: String?
    /// The most segments one message may take (SPEC §9: 1 by default); longer text is cut.
    public var segmentBudget: Int

    /// Creates a connection.
    public init(
        apiURL: String = SMSConnection.defaultAPIURL,
        accountSid: String,
        authToken: String,
        from: String? = nil,
        messagingServiceSid: String? = nil,
        segmentBudget: Int = 1
    ) {
        self.apiURL = apiURL
        self.accountSid = accountSid
        self.authToken = authToken
        self.from = from
        self.messagingServiceSid = messagingServiceSid
        self.segmentBudget = segmentBudget
    }

    /// The sender field and value every message carries: `MessagingServiceSid`, else `From`.
    var sender: (field: String, value: String)? {
        if let sid = messagingServiceSid, !sid.isEmpty { return ("MessagingServiceSid", sid) }
        if let from, !from.isEmpty { return ("From", from) }
        return nil
    }
}

extension SMSConnection: CustomStringConvertible {
    /// Describes the connection without the auth token.
    public var description: String {
        "SMSConnection(apiURL: \(apiURL), accountSid: \(accountSid), authToken: [REDACTED], "
            + "from: \(from ?? "none"), messagingServiceSid: \(messagingServiceSid ?? "none"), "
            + "segmentBudget: \(segmentBudget))"
    }
}
