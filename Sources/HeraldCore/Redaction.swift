/// Rules for keeping credentials out of logs and error text.
public enum Redaction {
    /// Webhook URLs and other addresses may carry credentials in their path or query: keep scheme and host only.
    public static func redactedAddress(_ address: String) -> String {
        let lower = address.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return address }
        return redactedURL(address)
    }

    /// `https://hooks.slack.com/services/T/B/X` → `https://hooks.slack.com/…`.
    public static func redactedURL(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "…" }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        // Drop userinfo (user:password@) from the authority as well.
        let host = authority.split(separator: "@").last.map(String.init) ?? ""
        let tail = rest.count > authority.count ? "/…" : ""
        return String(url[..<schemeEnd.upperBound]) + host + tail
    }

    /// Replaces every occurrence of each secret in `text` with `[REDACTED]`.
    public static func scrub(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: "[REDACTED]")
        }
        return result
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var output = ""
        var remainder = self[...]
        while let range = remainder.range(of: target) {
            output += remainder[..<range.lowerBound]
            output += replacement
            remainder = remainder[range.upperBound...]
        }
        output += remainder
        return output
    }
}
