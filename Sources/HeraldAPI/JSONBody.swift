import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// Reading request bodies: JSON only (415 otherwise), at most the configured size (413), parsed by the strict
/// parser of HeraldCore (400 naming the byte offset of the first problem).
public enum JSONBody {
    /// The body's bytes and parsed value.
    public static func read(_ request: Request, limit: Int) async throws(APIError) -> (data: Data, value: JSONValue) {
        guard let contentType = request.headers[.contentType], isJSON(contentType) else {
            throw APIError(
                .unsupportedMediaType,
                .unsupportedMediaType,
                "the body must be JSON (Content-Type: application/json)"
            )
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, .payloadTooLarge, "the request body is larger than \(limit) bytes")
        }
        let data = Data(buffer.readableBytesView)
        do {
            return (data, try JSONParser.parse(data))
        } catch {
            throw APIError(
                .badRequest,
                .validationFailed,
                "the body is not valid JSON: \(error.message) at byte \(error.offset)",
                details: [FieldError(field: "body", message: "\(error.message) at byte \(error.offset)")]
            )
        }
    }

    /// Whether a media type is JSON (`application/json`, `application/*+json`, any parameters).
    static func isJSON(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }
}

/// A strict reader of a small JSON object body: unknown fields refused, each field's type checked, every
/// problem collected with its field name before anything is applied.
public struct BodyObject {
    public let members: [JSONKey: JSONValue]
    public private(set) var problems: [FieldError] = []

    /// Reads `value` as an object with only the `allowed` fields.
    public init(_ value: JSONValue, allowed: Set<JSONKey>) throws(APIError) {
        guard case .object(let members) = value else { throw .invalid("body", "must be a JSON object") }
        self.members = members
        for name in members.keys.sorted() where !allowed.contains(name) {
            problems.append(FieldError(field: Self.printable(name.string), message: "is not a known field"))
        }
    }

    public mutating func fail(_ field: String, _ message: String) {
        problems.append(FieldError(field: field, message: message))
    }

    /// Whether the body holds `name` (null included).
    public func has(_ name: String) -> Bool { members[name] != nil }

    public mutating func string(_ name: String, required: Bool = false) -> String? {
        switch members[name] {
        case nil:
            if required { fail(name, "is required") }
            return nil
        case .string(let value)?: return value
        case let other?:
            fail(name, "must be a string, not \(other.typeName)")
            return nil
        }
    }

    public mutating func bool(_ name: String, required: Bool = false) -> Bool? {
        switch members[name] {
        case nil:
            if required { fail(name, "is required") }
            return nil
        case .bool(let value)?: return value
        case let other?:
            fail(name, "must be true or false, not \(other.typeName)")
            return nil
        }
    }

    /// An integer field: `.some(nil)` for an explicit null when `nullable`, nil when absent.
    public mutating func integer(_ name: String, nullable: Bool = false) -> Int?? {
        switch members[name] {
        case nil: return nil
        case .null? where nullable: return .some(nil)
        case .number(let value)?:
            guard value.rounded() == value, abs(value) < 1e15 else {
                fail(name, "must be an integer")
                return nil
            }
            return .some(Int(value))
        case let other?:
            fail(
                name,
                nullable
                    ? "must be an integer or null, not \(other.typeName)" : "must be an integer, not \(other.typeName)"
            )
            return nil
        }
    }

    public mutating func stringArray(_ name: String, required: Bool = false) -> [String]? {
        switch members[name] {
        case nil:
            if required { fail(name, "is required") }
            return nil
        case .array(let elements)?:
            var strings: [String] = []
            for (index, element) in elements.enumerated() {
                guard case .string(let value) = element else {
                    fail("\(name)[\(index)]", "must be a string")
                    continue
                }
                strings.append(value)
            }
            return strings
        case let other?:
            fail(name, "must be an array of strings, not \(other.typeName)")
            return nil
        }
    }

    /// Throws 400 with every problem, if any.
    public func check() throws(APIError) {
        if !problems.isEmpty { throw .validation(problems) }
    }

    /// A field name safe to echo: control characters escaped, at most 64 characters.
    static func printable(_ name: String) -> String {
        var text = ""
        for scalar in name.unicodeScalars.prefix(64) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                text += String(format: "\\u%04x", scalar.value)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}
