/// Neutralises data for the Markdown subset of Adaptive Card TextBlocks and FactSets (providers.md §3.2).
///
/// That subset has bold, italic, lists and links but no escape syntax, so characters that could start
/// markup are replaced with look-alikes: `*` and `_` (emphasis) and `[` `]` (links). Herald's own links
/// are built by `link(_:label:)` and never pass through `escape`.
enum MSTeamsMarkdown {
    /// Neutralises one character of data.
    static func escape(_ character: Character) -> String {
        switch character {
        case "*": "\u{2217}"  // ASTERISK OPERATOR
        case "_": "\u{FF3F}"  // FULLWIDTH LOW LINE
        case "[": "\u{FF3B}"  // FULLWIDTH LEFT SQUARE BRACKET
        case "]": "\u{FF3D}"  // FULLWIDTH RIGHT SQUARE BRACKET
        default: String(character)
        }
    }

    /// Neutralises data.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text { result += escape(character) }
        return result
    }

    /// A Markdown link `[label](url)`; the label is neutralised and kept on one line, and characters that
    /// would end the URL early are percent-encoded.
    static func link(_ url: String, label: String) -> String {
        var safeURL = ""
        for scalar in url.unicodeScalars {
            switch scalar {
            case "(": safeURL += "%28"
            case ")": safeURL += "%29"
            case " ": safeURL += "%20"
            case "<": safeURL += "%3C"
            case ">": safeURL += "%3E"
            default: safeURL.unicodeScalars.append(scalar)
            }
        }
        let safeLabel = escape(label).split(whereSeparator: \.isNewline).joined(separator: " ")
        return "[\(safeLabel)](\(safeURL))"
    }
}
