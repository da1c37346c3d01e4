/// A piece of text after fitting it to a limit.
public struct TruncatedText: Sendable, Hashable {
    /// The text, ending in `Truncation.ellipsis` when it was cut.
    public var text: String
    /// Whether anything was cut.
    public var wasTruncated: Bool

    /// Wraps an already fitted text.
    public init(text: String, wasTruncated: Bool) {
        self.text = text
        self.wasTruncated = wasTruncated
    }
}

/// Fits text to vendor limits, cutting on character boundaries and marking the cut with a visible `…`.
///
/// Vendors count differently: Slack and PagerDuty count characters (Unicode scalars are the safe measure,
/// as Alertmanager counts runes), Teams and SMTP count bytes. The result never exceeds the limit, the
/// ellipsis included, and never splits a grapheme cluster.
public enum Truncation {
    /// The visible mark appended to cut text (one Unicode scalar, three UTF-8 bytes).
    public static let ellipsis = "…"

    /// The unit a limit is expressed in.
    public enum Unit: Sendable, Hashable {
        /// Unicode scalars (what Slack and PagerDuty limits are safely counted in).
        case unicodeScalars
        /// UTF-8 bytes (payload size limits, SMTP line lengths).
        case utf8Bytes

        /// The length of `text` in this unit.
        public func length(of text: some StringProtocol) -> Int {
            switch self {
            case .unicodeScalars: text.unicodeScalars.count
            case .utf8Bytes: text.utf8.count
            }
        }
    }

    /// The length of `text` in Unicode scalars.
    public static func scalarCount(_ text: some StringProtocol) -> Int {
        text.unicodeScalars.count
    }

    /// Cuts `text` so that it is at most `limit` units long, appending `…` when it had to cut.
    public static func truncate(_ text: String, limit: Int, unit: Unit = .unicodeScalars) -> TruncatedText {
        truncate(text, limit: limit, unit: unit) { String($0) }
    }

    /// Transforms `text` character by character (for example escaping it) and cuts the transformed text to
    /// at most `limit` units without splitting the output of one character, appending `…` when it cut.
    public static func truncate(
        _ text: String,
        limit: Int,
        unit: Unit = .unicodeScalars,
        transform: (Character) -> String
    ) -> TruncatedText {
        var builder = TruncationBuilder(limit: limit, unit: unit)
        for character in text where !builder.isFull {
            builder.append(atomic: transform(character))
        }
        return builder.finish()
    }
}

/// Accumulates output pieces up to a limit; a piece that does not fit whole ends the text.
///
/// Renderers that mix their own markup (links, which must stay whole) with escaped data append the markup
/// as one atomic piece and the data character by character.
public struct TruncationBuilder: Sendable {
    private let limit: Int
    private let unit: Truncation.Unit
    private var output = ""
    private var length = 0
    /// The UTF-8 length of the longest prefix that still leaves room for the ellipsis.
    private var safeUTF8Count = 0
    private var cut = false
    /// The text was cut inside a shortened label, which already shows the mark.
    private var endsMarked = false

    /// Starts an empty text limited to `limit` units.
    public init(limit: Int, unit: Truncation.Unit = .unicodeScalars) {
        self.limit = max(0, limit)
        self.unit = unit
    }

    /// Whether the text was cut and further pieces are ignored.
    public var isFull: Bool { cut }

    /// Appends `piece` whole, or cuts the text here when it does not fit.
    public mutating func append(atomic piece: String) {
        guard !cut else { return }
        let pieceLength = unit.length(of: piece)
        let ellipsisLength = unit.length(of: Truncation.ellipsis)
        if length + pieceLength > limit {
            cut = true
            return
        }
        output += piece
        length += pieceLength
        if length + ellipsisLength <= limit {
            safeUTF8Count = output.utf8.count
        }
    }

    /// Appends a piece of markup around a label, such as a link `<url|label>`: whole when it fits, else
    /// with the label shortened and marked with `…` so that the markup itself (the link) is kept, which then
    /// ends the text. Only when not even `prefix` + `…` + `suffix` fits is the piece left out and the text cut.
    public mutating func append(
        prefix: String,
        label: String,
        suffix: String,
        transform: (Character) -> String = { String($0) }
    ) {
        guard !cut else { return }
        var whole = prefix
        for character in label { whole += transform(character) }
        whole += suffix
        if length + unit.length(of: whole) <= limit {
            append(atomic: whole)
            return
        }
        let available =
            limit - length - unit.length(of: prefix) - unit.length(of: suffix)
            - unit.length(of: Truncation.ellipsis)
        guard available >= 0 else {
            cut = true
            return
        }
        var shortened = ""
        var used = 0
        for character in label {
            let piece = transform(character)
            let pieceLength = unit.length(of: piece)
            if used + pieceLength > available { break }
            shortened += piece
            used += pieceLength
        }
        while let last = shortened.last, last.isWhitespace { shortened.removeLast() }
        output += prefix + shortened + Truncation.ellipsis + suffix
        length = unit.length(of: output)
        safeUTF8Count = output.utf8.count
        cut = true
        endsMarked = true
    }

    /// Appends `text` transformed character by character by `transform`, where `transformed` is `transform`
    /// applied to all of it at once: when that fits whole with room left for the ellipsis (the common case) it
    /// is appended in one step, which gives the same text as appending it character by character.
    public mutating func append(_ text: String, transformed: String, transform: (Character) -> String) {
        guard !cut else { return }
        let transformedLength = unit.length(of: transformed)
        guard length + transformedLength + unit.length(of: Truncation.ellipsis) <= limit else {
            append(text, transform: transform)
            return
        }
        output += transformed
        length += transformedLength
        safeUTF8Count = output.utf8.count
    }

    /// Appends `text` character by character, each transformed by `transform` (default: unchanged).
    public mutating func append(_ text: String, transform: (Character) -> String = { String($0) }) {
        for character in text where !cut {
            append(atomic: transform(character))
        }
    }

    /// The text so far: whole when everything fitted, else cut back to leave room for `…` and marked.
    public func finish() -> TruncatedText {
        guard cut else { return TruncatedText(text: output, wasTruncated: false) }
        if endsMarked { return TruncatedText(text: output, wasTruncated: true) }
        var kept = String(decoding: output.utf8.prefix(safeUTF8Count), as: UTF8.self)
        // A cut right after a space or newline reads better without it.
        while let last = kept.last, last.isWhitespace { kept.removeLast() }
        let ellipsisFits = unit.length(of: Truncation.ellipsis) <= limit
        return TruncatedText(text: ellipsisFits ? kept + Truncation.ellipsis : kept, wasTruncated: true)
    }
}
