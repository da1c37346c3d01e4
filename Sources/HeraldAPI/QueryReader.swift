import HeraldCore
import Hummingbird

/// Strict reading of query parameters: unknown names refused, each value checked, every problem named.
public struct QueryReader {
    let parameters: Parameters
    public private(set) var problems: [FieldError] = []

    /// The default and largest page sizes of listings.
    public static let defaultLimit = 50
    public static let maxLimit = 500

    public init(_ query: Parameters, allowed: Set<String>) {
        self.parameters = query
        for (name, _) in query where !allowed.contains(String(name)) {
            problems.append(FieldError(field: BodyObject.printable(String(name)), message: "is not a known parameter"))
        }
    }

    public mutating func fail(_ field: String, _ message: String) {
        problems.append(FieldError(field: field, message: message))
    }

    public func string(_ name: String) -> String? {
        parameters.get(name)
    }

    /// A value that must be one of an enum's raw values.
    public mutating func enumValue<Value: RawRepresentable & CaseIterable>(
        _ name: String,
        _ type: Value.Type
    ) -> Value? where Value.RawValue == String {
        guard let text = parameters.get(name) else { return nil }
        guard let value = Value(rawValue: text) else {
            fail(name, "must be one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    /// `limit`: 1 to `maxLimit`, default `defaultLimit`.
    public mutating func limit() -> Int {
        guard let text = parameters.get("limit") else { return Self.defaultLimit }
        guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
            fail("limit", "must be an integer from 1 to \(Self.maxLimit)")
            return Self.defaultLimit
        }
        return value
    }

    /// `cursor`: the `nextCursor` of the previous page.
    public mutating func cursor() -> Int64? {
        guard let text = parameters.get("cursor") else { return nil }
        guard let value = Cursor.decode(text) else {
            fail("cursor", "is not a cursor this API returned")
            return nil
        }
        return value
    }

    /// A string cursor (listings ordered by id).
    public mutating func stringCursor() -> String? {
        guard let text = parameters.get("cursor") else { return nil }
        guard let value = Cursor.decodeString(text) else {
            fail("cursor", "is not a cursor this API returned")
            return nil
        }
        return value
    }

    public func check() throws(APIError) {
        if !problems.isEmpty { throw .validation(problems) }
    }
}

/// Opaque paging cursors: a position in a listing, base64url-encoded.
public enum Cursor {
    public static func encode(_ position: Int64) -> String { encode(string: "n:\(position)") }

    public static func encode(_ id: String) -> String { encode(string: "s:\(id)") }

    public static func decode(_ cursor: String) -> Int64? {
        guard let text = decodeRaw(cursor), text.hasPrefix("n:") else { return nil }
        return Int64(text.dropFirst(2))
    }

    public static func decodeString(_ cursor: String) -> String? {
        guard let text = decodeRaw(cursor), text.hasPrefix("s:") else { return nil }
        return String(text.dropFirst(2))
    }

    private static func encode(string: String) -> String {
        Array(string.utf8).base64URLString
    }

    private static func decodeRaw(_ cursor: String) -> String? {
        guard cursor.utf8.count <= 400, let bytes = [UInt8](base64URL: cursor) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Base64url without padding.
    var base64URLString: String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var output: [UInt8] = []
        var index = 0
        while index < count {
            let chunk = Swift.min(3, count - index)
            var value = UInt32(self[index]) << 16
            if chunk > 1 { value |= UInt32(self[index + 1]) << 8 }
            if chunk > 2 { value |= UInt32(self[index + 2]) }
            output.append(table[Int(value >> 18 & 63)])
            output.append(table[Int(value >> 12 & 63)])
            if chunk > 1 { output.append(table[Int(value >> 6 & 63)]) }
            if chunk > 2 { output.append(table[Int(value & 63)]) }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes base64url without padding; nil for anything else.
    init?(base64URL text: String) {
        var values: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = Swift.min(4, values.count - index)
            var value: UInt32 = 0
            for offset in 0..<4 {
                value = value << 6 | (offset < chunk ? UInt32(values[index + offset]) : 0)
            }
            output.append(UInt8(value >> 16 & 0xFF))
            if chunk > 2 { output.append(UInt8(value >> 8 & 0xFF)) }
            if chunk > 3 { output.append(UInt8(value & 0xFF)) }
            index += 4
        }
        self = output
    }
}
