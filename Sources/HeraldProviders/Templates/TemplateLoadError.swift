/// A template file that could not be loaded; the message names the file (SPEC §14: errors name the path).
public struct TemplateLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file concerned.
    public var path: String
    /// The 1-based line of a syntax error, when known.
    public var line: Int?
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(path: String, line: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    /// `config/templates/payout_processed/email.mustache:3: a section is closed with the wrong name`.
    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}
