import Foundation

/// Quoted-printable transfer encoding (RFC 2045 §6.7) with CRLF line breaks.
///
/// Lines stay at most 76 characters (soft breaks with `=`), so the 998-octet SMTP limit can never be
/// reached whatever the text. `=`, non-ASCII bytes, control characters and trailing spaces are escaped; so
/// is a `.` that starts a line, which keeps lone-dot lines out of the SMTP stream even before dot-stuffing.
enum QuotedPrintable {
    /// The longest encoded line, soft-break `=` included.
    static let lineLength = 76

    /// Encodes `text`, whose line breaks (LF, CRLF or CR) become CRLF hard breaks.
    static func encode(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return normalized.split(separator: "\n", omittingEmptySubsequences: false)
            .map { encodeLine(Array($0.utf8)) }
            .joined(separator: "\r\n")
    }

    private static func encodeLine(_ bytes: [UInt8]) -> String {
        var lines: [String] = []
        var current = ""
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let token: String
            if (byte == 0x20 || byte == 0x09) && isLast {
                token = escape(byte)
            } else if byte == UInt8(ascii: ".") && current.isEmpty {
                token = escape(byte)
            } else if byte == 0x20 || byte == 0x09 || (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) {
                token = String(UnicodeScalar(byte))
            } else {
                token = escape(byte)
            }
            let fitsAsLast = isLast && current.utf8.count + token.utf8.count <= lineLength
            if !fitsAsLast && current.utf8.count + token.utf8.count > lineLength - 1 {
                lines.append(current + "=")
                current = ""
                // A line may not start with a bare dot after a soft break either.
                if token == "." {
                    current = escape(byte)
                    continue
                }
            }
            current += token
        }
        lines.append(current)
        return lines.joined(separator: "\r\n")
    }

    private static func escape(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
