/// Builds Slack mrkdwn text from escaped data and Herald's own markup (providers.md §1.4).
///
/// Slack reads `&`, `<` and `>` as control characters, so data gets exactly those three escaped (`&` first,
/// no other entities: Slack would show them literally). Links are markup and stay whole when the text is
/// cut; their labels may not contain `|` or `>`, which would end the label early.
struct SlackMrkdwn: Sendable {
    private enum Piece: Sendable {
        case data(String)
        case markup(String)
        case link(url: String, label: String)
    }

    private var pieces: [Piece] = []

    /// Appends user or event data, escaped.
    mutating func append(data text: String) {
        pieces.append(.data(text))
    }

    /// Appends Herald's own markup verbatim (`*`, newlines, `•`).
    mutating func append(markup text: String) {
        pieces.append(.markup(text))
    }

    /// Appends a link `<url|label>`; the label is escaped and cleared of `|`. When the text must be cut there,
    /// the label is shortened and the link kept (SPEC §9: the key's links are part of what it must convey).
    mutating func append(link url: String, label: String) {
        pieces.append(.link(url: url, label: label))
    }

    /// Whether nothing was appended.
    var isEmpty: Bool { pieces.isEmpty }

    /// The text cut to `limit` Unicode scalars (with `…` when cut); links are never split.
    func rendered(limit: Int) -> TruncatedText {
        var builder = TruncationBuilder(limit: limit)
        for piece in pieces where !builder.isFull {
            switch piece {
            case .data(let text):
                builder.append(text, transformed: SlackMrkdwn.escape(text), transform: SlackMrkdwn.escape)
            case .markup(let text): builder.append(atomic: text)
            case .link(let url, let label):
                builder.append(
                    prefix: "<" + SlackMrkdwn.safeURL(url) + "|",
                    label: label,
                    suffix: ">",
                    transform: SlackMrkdwn.escapeLabel
                )
            }
        }
        return builder.finish()
    }

    /// Escapes one character of data.
    static func escape(_ character: Character) -> String {
        escape(String(character))
    }

    /// Escapes data: `&`, `<` and `>` only.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A link with an escaped label; `|` in the label becomes `¦`, and the URL's own control characters are
    /// percent-encoded so the link cannot end early.
    static func link(_ url: String, label: String) -> String {
        var safeLabel = ""
        for character in label { safeLabel += escapeLabel(character) }
        return "<\(safeURL(url))|\(safeLabel)>"
    }

    /// One character of a link label: escaped, `|` as `¦`, a newline as a space.
    static func escapeLabel(_ character: Character) -> String {
        switch character {
        case "|": "¦"
        case "\n", "\r\n", "\r": " "
        default: escape(String(character))
        }
    }

    /// The URL with the characters that would end a link percent-encoded (and `&` escaped).
    static func safeURL(_ url: String) -> String {
        var safeURL = ""
        for scalar in url.unicodeScalars {
            switch scalar {
            case "&": safeURL += "&amp;"
            case "<": safeURL += "%3C"
            case ">": safeURL += "%3E"
            case "|": safeURL += "%7C"
            case " ": safeURL += "%20"
            default: safeURL.unicodeScalars.append(scalar)
            }
        }
        return safeURL
    }
}
