/// Checks channel addresses before they reach a transport; every message names what is wrong.
public enum AddressValidator {
    /// Returns nil when `address` is acceptable on `channel`, else the reason.
    public static func problem(with address: String, on channel: Channel) -> String? {
        if address.isEmpty { return "must not be empty" }
        if address.utf8.count > 2048 { return "must be at most 2048 bytes" }
        if let problem = controlProblem(address) { return problem }
        switch channel {
        case .email: return emailProblem(address)
        case .sms: return phoneProblem(address)
        case .slack:
            // An incoming-webhook URL (https in production; plain http reaches local relays and test sinks).
            if address.hasPrefix("https://") || address.hasPrefix("http://") { return urlProblem(address) }
            return slackIDProblem(address)
        case .msteams, .webhook: return urlProblem(address)
        case .pagerduty: return routingKeyProblem(address)
        }
    }

    /// Nil unless `text` holds a control character: C0 (CR, LF, NUL…), DEL, C1 (U+0085 NEL…) or the
    /// Unicode line and paragraph separators, any of which could split a header or a log line.
    public static func controlProblem(_ text: String) -> String? {
        Printable.containsControl(text) ? "must not contain control characters (CR, LF, NUL, U+0085…)" : nil
    }

    /// An addr-spec without display name, quoting or comments: `local@domain.tld`.
    public static func emailProblem(_ address: String) -> String? {
        if let problem = controlProblem(address) { return problem }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return "is not an email address (expected local@domain)"
        }
        guard parts[0].utf8.count <= 64, address.utf8.count <= 254 else { return "is too long for an email address" }
        let localAllowed = parts[0].unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x7F || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || "!#$%&'*+-/=?^_`{|}~.".unicodeScalars.contains(scalar)
        }
        guard localAllowed, !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains("..") else {
            return "has characters not allowed in an email address"
        }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2,
            labels.allSatisfy({ label in
                !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy {
                        $0.value > 0x7F || $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-"
                    }
            })
        else {
            return "has an invalid domain"
        }
        return nil
    }

    /// E.164: `+`, a non-zero digit, 8 to 15 digits in all.
    public static func phoneProblem(_ phone: String) -> String? {
        let digits = phone.dropFirst()
        guard phone.first == "+", (8...15).contains(digits.count), digits.first != "0",
            digits.allSatisfy({ $0.isASCII && $0.isNumber })
        else {
            return "is not an E.164 phone number (expected + and 8 to 15 digits)"
        }
        return nil
    }

    /// An absolute http(s) URL with a host.
    public static func urlProblem(_ url: String) -> String? {
        if let problem = controlProblem(url) { return problem }
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
            return "must be an http:// or https:// URL"
        }
        let afterScheme = url.drop(while: { $0 != ":" }).dropFirst(3)
        let host = afterScheme.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        if host.isEmpty { return "must name a host" }
        if url.contains(" ") { return "must not contain spaces" }
        return nil
    }

    /// A Slack conversation or user id (`C…`, `G…`, `D…`, `U…`, `W…`).
    public static func slackIDProblem(_ id: String) -> String? {
        let bytes = id.utf8
        guard (9...24).contains(bytes.count), let first = bytes.first, "CGDUW".utf8.contains(first),
            bytes.allSatisfy({
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            })
        else {
            return "is not a Slack channel or user id (e.g. C0123456789) nor an https:// webhook URL"
        }
        return nil
    }

    /// A PagerDuty Events API v2 integration key: 32 characters.
    public static func routingKeyProblem(_ key: String) -> String? {
        guard key.count == 32, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            return "is not a PagerDuty routing key (32 letters or digits)"
        }
        return nil
    }
}
