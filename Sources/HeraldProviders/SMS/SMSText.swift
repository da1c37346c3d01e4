/// Composes the SMS body: one short line and a link, fitted to a segment budget (SPEC §9, providers.md §4).
///
/// The link is never cut; the line before it is, ending in a visible mark. Typographic characters Herald's
/// own wording uses (curly quotes, dashes) are replaced by GSM look-alikes first, as Twilio's
/// `SmartEncoded` would, so that one of them does not switch the whole message to UCS-2 and cost more than
/// half its room. For the same reason a GSM-7 message marks its cut with `...`; a UCS-2 message uses `…`.
struct SMSText: Sendable, Hashable {
    /// The most characters Twilio accepts in `Body` (error 21617 above).
    static let maximumCharacters = 1600
    /// Between the line and the link; a line that already ends in punctuation gets a space only.
    static func separator(after line: String) -> String {
        guard let last = line.last, ".!?:;".contains(last) else { return ": " }
        return " "
    }

    /// The composed body.
    var text: String
    /// Its encoding.
    var encoding: SMSEncoding
    /// Its segment count.
    var segments: Int
    /// Whether the line had to be cut, or the link alone exceeded the budget.
    var wasTruncated: Bool

    /// Fits `line` and `link` into `budget` segments.
    init(line: String, link: String?, budget: Int) {
        let budget = max(1, budget)
        let line = SMSText.gsmLookalikes(in: SMSText.oneLine(line))
        func compose(_ line: String, mark: String = "") -> String {
            guard let link else { return line + mark }
            return line + mark + (mark.isEmpty ? SMSText.separator(after: line) : ": ") + link
        }
        func fits(_ text: String) -> Bool {
            text.utf16.count <= SMSText.maximumCharacters && SMSEncoding.segmentCount(of: text) <= budget
        }

        let whole = compose(line)
        if fits(whole) {
            self.init(text: whole, wasTruncated: false)
            return
        }
        // The longest prefix of the line that fits with its mark. Fitting is monotone in the prefix length:
        // a longer prefix never needs fewer segments, and GSM-7 never needs more than UCS-2 for the same text.
        let characters = Array(line)
        func candidate(_ count: Int) -> String {
            var prefix = String(characters[..<count])
            while let last = prefix.last, last.isWhitespace { prefix.removeLast() }
            let mark = SMSEncoding.isGSM(compose(prefix)) ? "..." : "…"
            return compose(prefix, mark: mark)
        }
        var low = 0
        var high = characters.count - 1
        var best: Int?
        while low <= high {
            let middle = (low + high) / 2
            if fits(candidate(middle)) {
                best = middle
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        if let best, best > 0 {
            self.init(text: candidate(best), wasTruncated: true)
        } else if let link {
            // Not even a word fits beside the link: the link alone is the message.
            self.init(text: link, wasTruncated: true)
        } else {
            self.init(text: candidate(0), wasTruncated: true)
        }
    }

    private init(text: String, wasTruncated: Bool) {
        self.text = text
        self.encoding = SMSEncoding.required(for: text)
        self.segments = SMSEncoding.segmentCount(of: text)
        self.wasTruncated = wasTruncated
    }

    /// Collapses line breaks and runs of white space to single spaces.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
    }

    /// Replaces typographic characters with their GSM look-alikes.
    static func gsmLookalikes(in text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{201C}", "\u{201D}", "\u{201E}", "\u{201F}", "\u{2033}", "\u{00AB}", "\u{00BB}": output += "\""
            case "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}", "\u{2032}": output += "'"
            case "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2014}", "\u{2015}", "\u{2212}": output += "-"
            case "\u{2026}": output += "..."
            case "\u{00A0}", "\u{2002}", "\u{2003}", "\u{2009}", "\u{202F}": output += " "
            case "\u{2022}": output += "*"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
