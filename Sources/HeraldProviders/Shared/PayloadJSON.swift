import Foundation
import HeraldCore

/// The one JSON encoding every provider payload uses: sorted keys, unescaped slashes, RFC 3339 dates.
///
/// Equal values always give equal bytes, which keeps golden files stable and stored payloads comparable. The
/// bytes are `JSONEncoder`'s with those options, written by `PayloadEncoder`, which unlike `JSONEncoder` keeps
/// member names byte for byte (`data` may hold both `"é"` and `"e\u0301"`).
enum PayloadJSON {
    /// Encodes `value` deterministically.
    static func encode(_ value: some Encodable) throws -> Data {
        try PayloadEncoder.encode(value)
    }
}

extension PayloadJSON {
    /// Writes JSON bytes by hand, with the output `encode` gives (keys in the order the caller writes them, which
    /// must be sorted; slashes unescaped; `"`, `\`, and control characters escaped as `JSONEncoder` does), for
    /// the payloads rendered once per recipient, where the `Codable` round trip was most of the rendering cost.
    struct Writer {
        fileprivate(set) var bytes: [UInt8] = []

        init(capacity: Int = 512) {
            bytes.reserveCapacity(capacity)
        }

        var data: Data { Data(bytes) }

        /// `{`, the members `body` writes, `}`.
        mutating func object(_ body: (inout ObjectWriter) -> Void) {
            bytes.append(UInt8(ascii: "{"))
            var members = ObjectWriter(writer: self)
            bytes = []
            body(&members)
            self = members.writer
            bytes.append(UInt8(ascii: "}"))
        }

        /// `[`, the elements `body` writes for each of `elements`, `]`.
        mutating func array<Element>(_ elements: [Element], _ body: (inout Writer, Element) -> Void) {
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                body(&self, element)
            }
            bytes.append(UInt8(ascii: "]"))
        }

        /// Text that is already JSON (a number, `null`).
        mutating func raw(_ json: String) {
            bytes.append(contentsOf: json.utf8)
        }

        mutating func bool(_ value: Bool) {
            bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
        }

        mutating func string(_ value: String) {
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0..<0x20:
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                    bytes.append(Self.hexDigits[Int(byte >> 4)])
                    bytes.append(Self.hexDigits[Int(byte & 0xF)])
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }

        private static let hexDigits = Array("0123456789abcdef".utf8)
        private static let trueBytes = Array("true".utf8)
        private static let falseBytes = Array("false".utf8)
    }

    /// The members of one object: `"key":value`, separated by commas.
    struct ObjectWriter {
        fileprivate var writer: Writer
        private var first = true

        fileprivate init(writer: Writer) {
            self.writer = writer
        }

        /// Writes the key; `value` writes the value.
        mutating func member(_ key: String, _ value: (inout Writer) -> Void) {
            if !first { writer.bytes.append(UInt8(ascii: ",")) }
            first = false
            writer.string(key)
            writer.bytes.append(UInt8(ascii: ":"))
            value(&writer)
        }

        mutating func member(_ key: String, string: String) {
            member(key) { $0.string(string) }
        }
    }
}
