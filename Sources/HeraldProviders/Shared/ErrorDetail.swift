import HeraldCore

/// Builds the short, redacted `detail` of a `DeliveryError` from text a server or transport sent back.
///
/// Vendor bodies and curl messages can echo what we sent them: a webhook URL (which is a credential) or a
/// token. Before such text is stored or logged, known secrets are scrubbed, URLs are cut to scheme and
/// host, Slack-style tokens are masked and, for destinations whose URL path is secret, path-like words are
/// masked too (a web server's 404 page often repeats the request path).
enum ErrorDetail {
    /// The longest detail kept (a log line, not a document).
    static let maximumLength = 200

    /// Cleans `text` for a `DeliveryError.detail`.
    /// - Parameters:
    ///   - secrets: values known to be secret (tokens, signing secrets); each is replaced by `[REDACTED]`.
    ///   - maskPaths: also mask words containing `/` (use when the destination URL's path is the secret).
    static func sanitize(_ text: String, secrets: [String] = [], maskPaths: Bool = false) -> String {
        let scrubbed = Redaction.scrub(text, secrets: secrets)
        var words: [String] = []
        for word in scrubbed.split(whereSeparator: { $0.isWhitespace || $0.isNewline }) {
            words.append(sanitizeWord(String(word), maskPaths: maskPaths))
        }
        let oneLine = words.joined(separator: " ")
        let printable = String(String.UnicodeScalarView(oneLine.unicodeScalars.filter { !isControl($0) }))
        return Truncation.truncate(printable, limit: maximumLength).text
    }

    /// Cleans a transport failure's classification the same way.
    static func sanitize(_ error: DeliveryError, secrets: [String] = [], maskPaths: Bool = false) -> DeliveryError {
        var error = error
        error.detail = sanitize(error.detail, secrets: secrets, maskPaths: maskPaths)
        return error
    }

    private static func sanitizeWord(_ word: String, maskPaths: Bool) -> String {
        if let range = word.range(of: "://") {
            // Keep any leading punctuation (`"`, `(`, `<`) and redact the rest as a URL.
            let schemeStart =
                word[..<range.lowerBound].lastIndex(where: { !($0.isLetter || $0.isNumber || $0 == "+") })
                .map { word.index(after: $0) } ?? word.startIndex
            let prefix = word[..<schemeStart]
            let url = String(word[schemeStart...]).trimmingTrailing(charactersIn: "\"'>),;|]}")
            return String(prefix) + Redaction.redactedURL(url)
        }
        if looksLikeSlackToken(word) { return "[REDACTED]" }
        if maskPaths, word.contains("/") { return "[path]" }
        return word
    }

    /// Slack tokens (`xoxb-…`, `xoxp-…`, `xapp-…`) are credentials wherever they appear.
    private static func looksLikeSlackToken(_ word: String) -> Bool {
        let lower = word.lowercased()
        return ["xoxa-", "xoxb-", "xoxe-", "xoxp-", "xoxr-", "xoxs-", "xapp-"].contains { lower.contains($0) }
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
    }
}

extension String {
    fileprivate func trimmingTrailing(charactersIn characters: String) -> String {
        var result = self
        while let last = result.last, characters.contains(last) { result.removeLast() }
        return result
    }
}
