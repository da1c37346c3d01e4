/// The two bodies of a notification email (SPEC §9): a text part that stands on its own and an HTML part
/// with the title linked to the issue, the description, the facts, the settings link and the reason line.
///
/// All data is escaped in the HTML part; only `http(s)` links become anchors, so a `javascript:` URL in
/// event data stays inert text.
struct EmailBody: Sendable, Hashable {
    var text: String
    var html: String

    init(_ content: NeutralContent) {
        text = EmailBody.plainText(content)
        html = EmailBody.html(content)
    }

    // MARK: - Text

    private static func plainText(_ content: NeutralContent) -> String {
        var paragraphs: [String] = []
        var heading = content.title
        if let url = safeLink(content.url) { heading += "\n" + url }
        paragraphs.append(heading)
        if let summary = content.summary { paragraphs.append(summary) }
        if let body = content.body { paragraphs.append(body) }
        if !content.facts.isEmpty {
            paragraphs.append(
                content.facts.map { fact in
                    let link = safeLink(fact.url).map { " <\($0)>" } ?? ""
                    return "\(fact.label): \(fact.value)\(link)"
                }
                .joined(separator: "\n")
            )
        }
        var footer: [String] = []
        if !content.footerParts.isEmpty { footer.append(content.footerParts.joined(separator: " · ")) }
        if let settings = safeLink(content.settingsURL) { footer.append("Notification settings: \(settings)") }
        if let unsubscribe = safeLink(content.unsubscribeURL) { footer.append("Unsubscribe: \(unsubscribe)") }
        footer.append(content.reasonLine)
        // "-- " is the usual signature separator: mail clients grey out or fold what follows.
        paragraphs.append("-- \n" + footer.joined(separator: "\n"))
        return paragraphs.joined(separator: "\n\n") + "\n"
    }

    // MARK: - HTML

    private static let muted = "color:#57606a;"

    private static func html(_ content: NeutralContent) -> String {
        var lines: [String] = [
            "<!DOCTYPE html>",
            "<html>",
            "<head><meta charset=\"utf-8\"><title>\(escape(content.title))</title></head>",
            "<body style=\"margin:0;padding:16px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
                + "font-size:14px;line-height:1.5;color:#1f2328;\">",
        ]
        let title = anchor(content.url, label: content.title, style: "color:#0969da;text-decoration:none;")
        lines.append("<h1 style=\"margin:0 0 12px 0;font-size:18px;\">\(title)</h1>")
        if let summary = content.summary {
            lines.append("<p style=\"margin:0 0 12px 0;\">\(paragraph(summary))</p>")
        }
        if let body = content.body {
            lines.append(
                "<p style=\"margin:0 0 12px 0;padding:8px 12px;border-left:3px solid #d0d7de;\">\(paragraph(body))</p>"
            )
        }
        if !content.facts.isEmpty {
            lines.append("<table role=\"presentation\" style=\"border-collapse:collapse;margin:0 0 12px 0;\">")
            for fact in content.facts {
                lines.append(
                    "<tr><td style=\"padding:2px 16px 2px 0;vertical-align:top;\(muted)\">\(escape(fact.label))</td>"
                        + "<td style=\"padding:2px 0;\">\(anchor(fact.url, label: fact.value, style: "color:#0969da;"))</td></tr>"
                )
            }
            lines.append("</table>")
        }
        lines.append("<hr style=\"border:none;border-top:1px solid #d0d7de;margin:16px 0;\">")
        var footer = content.footerParts.map(escape)
        if let settings = safeLink(content.settingsURL) {
            footer.append("<a href=\"\(escape(settings))\" style=\"\(muted)\">Notification settings</a>")
        }
        if let unsubscribe = safeLink(content.unsubscribeURL) {
            footer.append("<a href=\"\(escape(unsubscribe))\" style=\"\(muted)\">Unsubscribe</a>")
        }
        var small: [String] = []
        if !footer.isEmpty { small.append(footer.joined(separator: " · ")) }
        small.append(escape(content.reasonLine))
        lines.append("<p style=\"margin:0;font-size:12px;\(muted)\">\(small.joined(separator: "<br>\n"))</p>")
        lines.append("</body>")
        lines.append("</html>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A link when `url` is a safe http(s) URL, else the escaped label alone.
    private static func anchor(_ url: String?, label: String, style: String) -> String {
        guard let link = safeLink(url) else { return escape(label) }
        return "<a href=\"\(escape(link))\" style=\"\(style)\">\(escape(label))</a>"
    }

    /// Escaped text with its line breaks kept.
    private static func paragraph(_ text: String) -> String {
        escape(text).split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "<br>\n")
    }

    /// Escapes the five characters HTML gives meaning to, in text and in quoted attributes.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\r": continue
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `url` when it is an http(s) URL without spaces or control characters, else nil.
    static func safeLink(_ url: String?) -> String? {
        guard let url else { return nil }
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"),
            !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F })
        else { return nil }
        return url
    }
}
