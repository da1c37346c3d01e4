/// The documented shape of a JSON value, checked field by field so that every refusal names its field.
///
/// Intake uses it for the `data` of built-in keys (SPEC §3.2) and import for every directory entry (§5.2):
/// unknown fields are refused at every level, required fields must be present, and each value must have its
/// documented type, range or spelling (identifiers per §3.1, RFC 3339 timestamps, URLs without control
/// characters, integers within the field's range).
public indirect enum FieldShape: Sendable {
    /// Any string.
    case string
    /// A non-empty string.
    case text
    /// An identifier or slug (SPEC §3.1).
    case identifier
    /// An absolute http(s) URL.
    case url
    /// An RFC 3339 date-time.
    case timestamp
    /// `true` or `false`.
    case bool
    /// A whole number within the range.
    case integer(ClosedRange<Int>)
    /// One of the strings.
    case oneOf([String])
    /// An array whose elements all have the shape.
    case list(FieldShape)
    /// An object with exactly these fields (the others refused).
    case object([JSONKey: Field])
    /// An object with any member names (each at most 128 bytes) and values of the shape.
    case map(FieldShape)
    /// Either shape: the first whose JSON type matches is checked.
    case either(FieldShape, FieldShape)
    /// `null` is accepted as "absent" and any other value checked against the shape.
    case nullable(FieldShape)

    /// One field of an object shape.
    public struct Field: Sendable {
        public var shape: FieldShape
        public var required: Bool

        public init(_ shape: FieldShape, required: Bool = false) {
            self.shape = shape
            self.required = required
        }
    }

    /// Every problem of `value` against this shape, named from `path` (`data.assignee.type`).
    public func problems(of value: JSONValue, at path: String) -> [FieldError] {
        var problems: [FieldError] = []
        check(value, at: path, into: &problems)
        return problems
    }

    /// Appends the problems of `value` to `problems`.
    public func check(_ value: JSONValue, at path: String, into problems: inout [FieldError]) {
        check(value, path: { path }, into: &problems)
    }

    /// The check itself. Paths are built only for problems (intake runs this for every event), and problems
    /// are ordered by field path, so that the order never depends on dictionary iteration.
    private func check(_ value: JSONValue, path: () -> String, into problems: inout [FieldError]) {
        func fail(_ message: String) { problems.append(FieldError(field: path(), message: message)) }
        switch self {
        case .nullable(let inner):
            if case .null = value { return }
            inner.check(value, path: path, into: &problems)
        case .string, .text, .identifier, .url, .timestamp:
            guard case .string(let text) = value else { return fail("must be a string, not \(value.typeName)") }
            switch self {
            case .text where text.isEmpty: fail("must not be empty")
            case .identifier: if let problem = Identifier.problem(text) { fail(problem) }
            case .url: if let problem = AddressValidator.urlProblem(text) { fail(problem) }
            case .timestamp:
                if Timestamp.parse(text) == nil {
                    fail("must be an RFC 3339 date-time such as 2026-11-23T10:00:00Z, not \(Printable.quoted(text))")
                }
            default: break
            }
        case .bool:
            guard case .bool = value else { return fail("must be true or false, not \(value.typeName)") }
        case .integer(let range):
            guard case .number(let number) = value else { return fail("must be a number, not \(value.typeName)") }
            guard number.rounded() == number else { return fail("must be a whole number") }
            guard number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
                return fail("must be between \(range.lowerBound) and \(range.upperBound)")
            }
        case .oneOf(let choices):
            guard case .string(let text) = value else { return fail("must be a string, not \(value.typeName)") }
            if !choices.contains(where: { $0.utf8.elementsEqual(text.utf8) }) {
                fail("must be one of \(choices.joined(separator: ", ")), not \(Printable.quoted(text))")
            }
        case .list(let element):
            guard case .array(let elements) = value else { return fail("must be an array, not \(value.typeName)") }
            for (index, item) in elements.enumerated() {
                element.check(item, path: { "\(path())[\(index)]" }, into: &problems)
            }
        case .object(let fields):
            guard case .object(let members) = value else { return fail("must be an object, not \(value.typeName)") }
            let first = problems.count
            // Byte for byte (`JSONKey`): `String` equality would take U+212A KELVIN SIGN for `K`.
            for name in members.keys where fields[name] == nil {
                problems.append(
                    FieldError(field: "\(path()).\(Printable.escaped(name.string))", message: "is not a known field")
                )
            }
            for (name, field) in fields {
                switch members[name] {
                case nil, .null?:
                    if field.required {
                        problems.append(FieldError(field: "\(path()).\(name)", message: "is required"))
                    }
                case let member?:
                    field.shape.check(member, path: { "\(path()).\(name)" }, into: &problems)
                }
            }
            Self.order(&problems, from: first)
        case .map(let valueShape):
            guard case .object(let members) = value else { return fail("must be an object, not \(value.typeName)") }
            let first = problems.count
            for (name, member) in members {
                if name.string.isEmpty || name.utf8.count > 128 {
                    problems.append(
                        FieldError(
                            field: "\(path()).\(Printable.escaped(name.string))",
                            message: "names must be 1 to 128 bytes"
                        )
                    )
                } else {
                    valueShape.check(
                        member,
                        path: { "\(path()).\(Printable.escaped(name.string))" },
                        into: &problems
                    )
                }
            }
            Self.order(&problems, from: first)
        case .either(let first, let second):
            if first.accepts(typeOf: value) {
                first.check(value, path: path, into: &problems)
            } else {
                second.check(value, path: path, into: &problems)
            }
        }
    }

    /// Sorts the problems added since `first` by field path (bytes), when there is more than one.
    private static func order(_ problems: inout [FieldError], from first: Int) {
        guard problems.count - first > 1 else { return }
        problems[first...].sort { Printable.byteOrder($0.field, $1.field) }
    }

    /// Whether the JSON type of `value` is the one this shape describes.
    func accepts(typeOf value: JSONValue) -> Bool {
        switch (self, value) {
        case (.nullable, .null): true
        case (.nullable(let inner), _): inner.accepts(typeOf: value)
        case (.string, .string), (.text, .string), (.identifier, .string), (.url, .string), (.timestamp, .string),
            (.oneOf, .string):
            true
        case (.bool, .bool), (.integer, .number), (.list, .array), (.object, .object), (.map, .object): true
        case (.either(let first, let second), _): first.accepts(typeOf: value) || second.accepts(typeOf: value)
        default: false
        }
    }
}
