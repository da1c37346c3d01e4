import Foundation

/// Header fields of an RFC 5322 message, built so that no data can start a header of its own.
///
/// Every value is first cleaned: CR, LF and every other control character become spaces (a title holding
/// `\r\nBcc: evil@example.com` stays inside its own header). Values are then folded before spaces to stay
/// near 78 octets per line and always under 998 (RFC 5322 §2.1.1, providers.md §5.4); text that is not
/// plain ASCII, or has words too long to fold, becomes RFC 2047 encoded words of at most 75 characters,
/// split on Unicode scalar boundaries.
struct MailHeader: Sendable, Hashable {
    /// The recommended line length (RFC 5322 §2.1.1).
    static let foldWidth = 78
    /// The longest encoded word (RFC 2047 §2).
    static let encodedWordLimit = 75
    /// The longest line that holds an encoded word, header name included (RFC 2047 §2).
    static let encodedLineLimit = 76

    var name: String
    /// The value as it goes on the wire, already folded: continuation lines start with a space.
    var wireValue: String

    /// A header whose value is Herald's own ASCII (`MIME-Version`, `Content-Type`): cleaned and folded.
    static func structured(_ name: String, _ value: String) -> MailHeader {
        MailHeader(name: name, wireValue: fold(words: clean(value).split(separator: " ").map(String.init), name: name))
    }

    /// An unstructured text header from data (`Subject`): plain folded ASCII when it can be, else encoded words.
    static func text(_ name: String, _ value: String) -> MailHeader {
        let cleaned = clean(value)
        let words = cleaned.split(separator: " ").map(String.init)
        if isPlainText(cleaned), words.allSatisfy({ $0.utf8.count <= foldWidth - name.utf8.count - 2 }) {
            return MailHeader(name: name, wireValue: fold(words: words, name: name))
        }
        return MailHeader(name: name, wireValue: foldEncoded(encodedWords(cleaned, after: name), name: name))
    }

    /// A mailbox header (`From`): `Display Name <addr>`, the name quoted or encoded as needed.
    static func mailbox(_ name: String, _ mailbox: EmailAddress) -> MailHeader {
        let address = "<" + clean(mailbox.address).replacingOccurrences(of: " ", with: "") + ">"
        guard let displayName = mailbox.displayName.map(clean), !displayName.isEmpty else {
            return MailHeader(name: name, wireValue: String(address.dropFirst().dropLast()))
        }
        var nameWords: [String]
        if isPlainText(displayName), displayName.utf8.count <= 64 {
            let specials = "()<>[]:;@\\,.\""
            if displayName.contains(where: { specials.contains($0) }) {
                let escaped = displayName.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\"", with: "\\\"")
                nameWords = ["\"" + escaped + "\""]
            } else {
                nameWords = displayName.split(separator: " ").map(String.init)
            }
        } else {
            nameWords = encodedWords(displayName, after: name)
            return MailHeader(name: name, wireValue: foldEncoded(nameWords + [address], name: name))
        }
        return MailHeader(name: name, wireValue: fold(words: nameWords + [address], name: name))
    }

    /// The header as wire lines, each ending in CRLF.
    var wireText: String { "\(name): \(wireValue)\r\n" }

    // MARK: - Pieces

    /// Replaces control characters (CR, LF, tab, NUL, DEL, and the Unicode line separators) with spaces,
    /// collapses runs of spaces and trims.
    static func clean(_ value: String) -> String {
        var result = ""
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            let isBreak =
                scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == " "
            if isBreak {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace { result += " " }
            pendingSpace = false
            result.unicodeScalars.append(scalar)
        }
        return result
    }

    /// Whether `text` is printable ASCII that no decoder could take for an encoded word.
    static func isPlainText(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !text.contains("=?")
    }

    /// Whether `text` holds CR, LF or NUL (what would let it end a header or an SMTP command).
    static func containsLineBreak(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    /// `=?UTF-8?B?…?=` words for a header named `name`, each a whole number of characters (RFC 2047 §5: split
    /// between grapheme clusters, or between scalars inside a cluster too long for one word). Every word fits
    /// a line of at most 76 characters (§2): the first one after `Name: `, the others on continuation lines
    /// after one space, where they are at most 75 characters.
    static func encodedWords(_ text: String, after name: String) -> [String] {
        let prefix = "=?UTF-8?B?"
        let suffix = "?="
        let overhead = prefix.count + suffix.count
        // 4 base64 characters per 3 bytes: the largest multiple of 3 bytes that fits in `limit` characters.
        func capacity(_ limit: Int) -> Int { max(3, (limit - overhead) / 4 * 3) }
        let firstLimit = max(overhead + 8, min(encodedWordLimit, encodedLineLimit - name.utf8.count - 2))
        var maximumBytes = capacity(firstLimit)
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            words.append(prefix + Data(chunk).base64EncodedString() + suffix)
            chunk = []
            maximumBytes = capacity(encodedWordLimit)
        }
        func add(_ bytes: [UInt8]) {
            if !chunk.isEmpty, chunk.count + bytes.count > maximumBytes { flush() }
            chunk += bytes
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maximumBytes, !chunk.isEmpty { flush() }
            if bytes.count <= maximumBytes {
                add(bytes)
            } else {
                for scalar in character.unicodeScalars { add(Array(String(scalar).utf8)) }
            }
        }
        if !chunk.isEmpty || words.isEmpty { flush() }
        return words
    }

    /// Like `fold`, for values holding encoded words: every line stays within 76 characters (RFC 2047 §2).
    static func foldEncoded(_ words: [String], name: String) -> String {
        fold(words: words, name: name, width: encodedLineLimit)
    }

    /// Joins `words` with single spaces, breaking the line before a word that would pass 78 octets.
    static func fold(words: [String], name: String, width: Int = foldWidth) -> String {
        var value = ""
        var lineLength = name.utf8.count + 2
        for word in words {
            let length = word.utf8.count
            if value.isEmpty {
                value = word
                lineLength += length
            } else if lineLength + 1 + length > width {
                value += "\r\n " + word
                lineLength = 1 + length
            } else {
                value += " " + word
                lineLength += 1 + length
            }
        }
        return value
    }

    /// The `Date` value: `Mon, 23 Nov 2026 10:00:00 +0000` (RFC 5322 §3.3), always in UTC.
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = days[((parts.weekday ?? 1) - 1) % 7]
        let month = months[((parts.month ?? 1) - 1) % 12]
        func two(_ value: Int?) -> String {
            let number = value ?? 0
            return number < 10 ? "0\(number)" : "\(number)"
        }
        return "\(day), \(two(parts.day)) \(month) \(parts.year ?? 1970) "
            + "\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}
