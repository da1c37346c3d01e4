import Foundation

/// The name of a JSON object member, compared byte for byte.
///
/// JSON member names are sequences of Unicode scalars (RFC 8259 §8.3): `"é"` (U+00E9) and `"e\u0301"` are two
/// different names, and so are `"K"` and `"\u212A"` (KELVIN SIGN). Swift's `String` equality and hashing are
/// canonical equivalence, which takes each pair for one, so a `[JSONKey: JSONValue]` would refuse an object holding
/// both as a duplicate (or keep one and drop the other) and would find a member under a name it was not given.
/// `JSONKey` keeps the `String` but compares, hashes and orders its UTF-8 bytes.
public struct JSONKey: Sendable, Hashable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The name as text.
    public let string: String

    public init(_ string: String) { self.string = string }

    public init(stringLiteral value: String) { self.string = value }

    public var description: String { string }

    /// Its UTF-8 bytes.
    public var utf8: String.UTF8View { string.utf8 }

    public static func == (left: JSONKey, right: JSONKey) -> Bool {
        var left = left.string
        var right = right.string
        guard left.utf8.count == right.utf8.count else { return false }
        return left.withUTF8 { leftBytes in
            right.withUTF8 { rightBytes in
                leftBytes.count == 0 || memcmp(leftBytes.baseAddress!, rightBytes.baseAddress!, leftBytes.count) == 0
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        var text = string
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        // A terminator, as `String` writes one, so that consecutive keys hashed together stay apart.
        hasher.combine(0xFF as UInt8)
    }

    /// Byte order: a total order under which two different names are never equal.
    public static func < (left: JSONKey, right: JSONKey) -> Bool {
        left.string.utf8.lexicographicallyPrecedes(right.string.utf8)
    }
}

extension JSONKey: Codable, CodingKeyRepresentable {
    public init(from decoder: any Decoder) throws {
        string = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }

    /// So that `[JSONKey: Value]` encodes as a JSON object, not as an array of pairs.
    public var codingKey: any CodingKey { Name(stringValue: string) }

    public init?<T: CodingKey>(codingKey: T) { string = codingKey.stringValue }

    private struct Name: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

extension Dictionary where Key == JSONKey {
    /// The member named `name`, byte for byte.
    @inlinable
    public subscript(name: String) -> Value? {
        get { self[JSONKey(name)] }
        set { self[JSONKey(name)] = newValue }
    }
}
