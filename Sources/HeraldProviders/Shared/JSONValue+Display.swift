import HeraldCore

extension JSONValue {
    /// The value as a person would read it: strings as they are, whole numbers without a decimal point,
    /// booleans as yes/no, arrays as comma-separated lists; nil for null and empty values.
    var displayText: String? {
        switch self {
        case .null:
            return nil
        case .bool(let value):
            return value ? "yes" : "no"
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .string(let value):
            return value.isEmpty ? nil : value
        case .array(let elements):
            let parts = elements.compactMap(\.displayText)
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        case .object(let members):
            let parts = members.keys.sorted().compactMap { key in members[key]?.displayText.map { "\(key)=\($0)" } }
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        }
    }

    /// Whether the value counts as set: true, a non-zero number, a non-empty string, array or object.
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value): value != 0
        case .string(let value): !value.isEmpty
        case .array(let elements): !elements.isEmpty
        case .object(let members): !members.isEmpty
        }
    }
}
