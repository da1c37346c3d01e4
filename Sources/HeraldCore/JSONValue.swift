import Foundation

/// An arbitrary JSON value, used for the free-form `data` of events and for canonical encoding.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members by name, byte for byte (see `JSONKey`).
    case object([JSONKey: JSONValue])

    /// The value of `key` when this is an object.
    public subscript(key: JSONKey) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value of the member named `name` (byte for byte) when this is an object.
    public subscript(name: String) -> JSONValue? {
        self[JSONKey(name)]
    }

    /// The string payload, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The object members, if this is an object.
    public var objectValue: [JSONKey: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The array elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The boolean payload, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The numeric payload, if this is a number.
    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// A short name of the JSON type, for validation messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let object = try? decoder.container(keyedBy: MemberName.self) {
            var members: [JSONKey: JSONValue] = [:]
            for name in object.allKeys {
                members[JSONKey(name.stringValue)] = try object.decode(JSONValue.self, forKey: name)
            }
            self = .object(members)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if case .object(let members) = self {
            var object = encoder.container(keyedBy: MemberName.self)
            for name in members.keys.sorted() {
                try object.encode(members[name]!, forKey: MemberName(stringValue: name.string))
            }
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .object: break  // written above, through a keyed container
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        }
    }

    /// A member name as a coding key. `Codable` coders such as Foundation's `JSONEncoder` keep their members in
    /// `String`-keyed storage and so merge canonically equivalent names: Herald's own JSON goes through
    /// `canonicalBytes()` and `JSONParser` instead, which keep every name byte for byte.
    private struct MemberName: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

extension JSONValue {
    /// Parses JSON bytes strictly (see `JSONParser`): bounded nesting, valid UTF-8, no duplicate keys.
    public static func parse(_ data: Data) throws -> JSONValue {
        try JSONParser.parse(data)
    }

    /// Encodes with sorted keys, so equal values give equal bytes.
    public func canonicalData() throws -> Data {
        Data(canonicalBytes())
    }
}
