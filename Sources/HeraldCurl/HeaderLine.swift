/// Byte-level matching of raw header lines from `CURLOPT_HEADERFUNCTION`, without building a String for
/// every header (only the few we keep become Strings).
enum HeaderLine {
    /// Whether `line` starts with `prefix`; ASCII letters compare case-insensitively when asked.
    static func hasPrefix(_ line: UnsafeRawBufferPointer, _ prefix: StaticString, caseInsensitive: Bool) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.count >= count else { return false }
        let pattern = prefix.utf8Start
        for index in 0..<count {
            var byte = line[index]
            if caseInsensitive, byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") {
                byte |= 0x20
            }
            if byte != pattern[index] {
                return false
            }
        }
        return true
    }

    /// The trimmed value when `line` is the header `name` (lower-case, with its colon), else nil.
    static func value(of name: StaticString, in line: UnsafeRawBufferPointer) -> String? {
        guard hasPrefix(line, name, caseInsensitive: true) else { return nil }
        var start = name.utf8CodeUnitCount
        var end = line.count
        while start < end, isWhitespace(line[start]) {
            start += 1
        }
        while end > start, isWhitespace(line[end - 1]) {
            end -= 1
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\n")
    }
}
