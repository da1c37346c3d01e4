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
    ///
    /// One pass over the UTF-8 bytes into one buffer: an email body is encoded per recipient, so this is on
    /// the fan-out hot path.
    static func encode(_ text: String) -> String {
        var output: [UInt8] = []
        var line: [UInt8] = []
        output.reserveCapacity(text.utf8.count + text.utf8.count / 8 + 16)
        var previousWasCR = false
        var first = true
        func flush() {
            if !first { output.append(contentsOf: [0x0D, 0x0A]) }
            first = false
            encodeLine(line, into: &output)
            line.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            switch byte {
            case 0x0D:
                flush()
                previousWasCR = true
            case 0x0A:
                if !previousWasCR { flush() }
                previousWasCR = false
            default:
                previousWasCR = false
                line.append(byte)
            }
        }
        flush()
        return String(decoding: output, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func encodeLine(_ bytes: [UInt8], into output: inout [UInt8]) {
        var currentLength = 0
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let isBlank = byte == 0x20 || byte == 0x09
            let escaped: Bool
            if isBlank && isLast {
                escaped = true
            } else if byte == UInt8(ascii: ".") && currentLength == 0 {
                escaped = true
            } else {
                escaped = !(isBlank || (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")))
            }
            let tokenLength = escaped ? 3 : 1
            let fitsAsLast = isLast && currentLength + tokenLength <= lineLength
            if !fitsAsLast && currentLength + tokenLength > lineLength - 1 {
                output.append(contentsOf: [UInt8(ascii: "="), 0x0D, 0x0A])
                currentLength = 0
                // A line may not start with a bare dot after a soft break either.
                if !escaped && byte == UInt8(ascii: ".") {
                    append(escapeOf: byte, to: &output)
                    currentLength = 3
                    continue
                }
            }
            if escaped {
                append(escapeOf: byte, to: &output)
            } else {
                output.append(byte)
            }
            currentLength += tokenLength
        }
    }

    private static func append(escapeOf byte: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "="))
        output.append(hexDigits[Int(byte >> 4)])
        output.append(hexDigits[Int(byte & 0x0F)])
    }
}
