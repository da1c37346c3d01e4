/// Identifiers and slugs (SPEC §3.1): 1–128 bytes of `[A-Za-z0-9._:@/+-]`, compared byte for byte.
///
/// Keeping identifiers to this ASCII subset is what makes them safe to compare anywhere: Swift's `String`
/// equality is canonical equivalence (`"café"` composed equals `"café"` decomposed) while SQLite and every
/// wire format compare bytes, and ASCII is the one range where both agree. NUL, controls, spaces and any
/// non-ASCII scalar are refused, so two spellings can never be one id to one layer and two to another.
public enum Identifier {
    /// The longest identifier, in bytes.
    public static let maxBytes = 128

    /// Nil when `text` is a valid identifier, else the reason (one printable line).
    public static func problem(_ text: String) -> String? {
        let bytes = text.utf8
        guard !bytes.isEmpty else { return "must not be empty" }
        guard bytes.count <= maxBytes else { return "must be at most \(maxBytes) bytes" }
        for byte in bytes where !isAllowed(byte) {
            return "must be letters, digits and . _ : @ / + - only (found \(Printable.describe(byte: byte, in: text)))"
        }
        return nil
    }

    /// Whether `byte` may appear in an identifier.
    @inline(__always)
    public static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
            UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}

/// Makes input safe to echo in a one-line message: control characters become escapes.
public enum Printable {
    /// `text` with C0 and C1 controls, DEL and the Unicode line and paragraph separators escaped
    /// (`\r`, `\n`, `\t`, `\u0000`, `\u0085`…); every other character is kept. Backslashes are kept as they are.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
        }
        return result
    }

    /// `"text"`, escaped, for messages that quote a value.
    public static func quoted(_ text: String) -> String { "\"\(escaped(text))\"" }

    /// Whether a scalar would break a one-line message or hide what it says.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
    }

    /// Whether `text` holds a control character (C0, DEL, C1 such as U+0085, or U+2028/U+2029).
    public static func containsControl(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: needsEscape)
    }

    /// A readable name of an offending byte of `text`: the character when printable, else its escape.
    static func describe(byte: UInt8, in text: String) -> String {
        if byte >= 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte < 0x80 { return escaped(String(Character(Unicode.Scalar(byte)))) }
        return "a non-ASCII character"
    }

    /// Orders strings by their UTF-8 bytes: a total order that never calls two different keys equal.
    public static func byteOrder(_ left: String, _ right: String) -> Bool {
        left.utf8.lexicographicallyPrecedes(right.utf8)
    }
}
