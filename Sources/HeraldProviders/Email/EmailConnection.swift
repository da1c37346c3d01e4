import HeraldCore

/// How an email notifier reaches its SMTP relay (SPEC §14 `notifiers[].email`).
public struct EmailConnection: Sendable {
    /// The relay: `smtps://host:465` (TLS from the first byte) or `smtp://host:587` (STARTTLS required unless
    /// `allowInsecure`). A path names the EHLO domain (providers.md §5.1).
    public var url: String
    /// The SMTP AUTH user, if the relay needs one.
    public var username: String?
    /// The SMTP AUTH password; a secret.
    public var password: String?
    /// The `From` header: `notify@example.com` or `Herald <notify@example.com>`. Its address is also the
    /// envelope sender (where bounces go).
    public var from: String
    /// Allows plain `smtp://` without STARTTLS (local relays and tests only).
    public var allowInsecure: Bool

    /// Creates a connection.
    public init(
        url: String,
        username: String? = nil,
        password: String? = nil,
        from: String,
        allowInsecure: Bool = false
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.from = from
        self.allowInsecure = allowInsecure
    }

    /// What is wrong with the connection for configuration validation, or nil: `url` must be `smtp://` or
    /// `smtps://` with a host, `from` must hold a valid address, and nothing may contain CR or LF.
    public var problem: String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("smtp://") || lower.hasPrefix("smtps://") else {
            return "url: must be an smtp:// or smtps:// URL"
        }
        if SMTPRelay(url: url).host.isEmpty { return "url: must name a host" }
        if [url, username ?? "", password ?? "", from].contains(where: MailHeader.containsLineBreak) {
            return "must not contain CR, LF or NUL characters"
        }
        if let problem = AddressValidator.emailProblem(EmailAddress(parsing: from).address) {
            return "from: \(problem)"
        }
        return nil
    }
}

extension EmailConnection: CustomStringConvertible {
    /// Describes the connection without the password.
    public var description: String {
        "EmailConnection(url: \(Redaction.redactedURL(url)), username: \(username ?? "none"), "
            + "password: \(password == nil ? "none" : "[REDACTED]"), from: \(from), allowInsecure: \(allowInsecure))"
    }
}

/// The parts of a relay URL that name the relay: the pacing key of every email of a notifier.
struct SMTPRelay: Sendable, Hashable {
    /// `smtp` or `smtps`, lower-cased.
    var scheme: String
    /// The host, without user info or port.
    var host: String
    /// `host:port` as written, without user info.
    var authority: String

    init(url: String) {
        let schemeEnd = url.range(of: "://")
        scheme = schemeEnd.map { url[..<$0.lowerBound].lowercased() } ?? ""
        let rest = schemeEnd.map { url[$0.upperBound...] } ?? url[...]
        let fullAuthority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        authority = fullAuthority.split(separator: "@").last.map(String.init) ?? ""
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[...close])
        } else {
            host = String(authority.prefix(while: { $0 != ":" }))
        }
    }
}
