/// One validation problem: the path of the offending field and why it was refused.
public struct FieldError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The dotted/indexed path of the field, e.g. `events[3].recipients[0].address`.
    public var field: String
    /// A human-readable reason.
    public var message: String

    /// Creates a field error; control characters in either part are escaped (`\u0000`, `\r`), so that a
    /// refusal is always one printable line whatever the input held.
    public init(field: String, message: String) {
        self.field = Printable.escaped(field)
        self.message = Printable.escaped(message)
    }

    public var description: String { "\(field): \(message)" }
}

/// A refusal of input, carrying a stable error code and every field problem found.
public struct ValidationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable machine-readable code (`VALIDATION_FAILED`, `UNKNOWN_EVENT_KEY`, `PAYLOAD_TOO_LARGE`, …).
    public var code: String
    /// Every problem found, in input order.
    public var details: [FieldError]

    public init(code: String, details: [FieldError]) {
        self.code = code
        self.details = details
    }

    /// One line naming the first field and how many more there are.
    public var description: String {
        guard let first = details.first else { return code }
        let more = details.count > 1 ? " (and \(details.count - 1) more)" : ""
        return "\(first.field): \(first.message)\(more)"
    }
}
