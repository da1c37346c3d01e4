/// A compiled glob pattern for ownership rules.
///
/// In `.path` mode `*` and `?` stay within one path segment, `**` crosses segments, and `**/` also matches
/// no directory at all (`src/**/a.py` matches `src/a.py`). In `.text` mode (URLs and tag values) `*` matches
/// any run of characters, `/` included. Matching is case-sensitive; there are no character classes.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    /// How separators are treated.
    public enum Mode: Sendable, Hashable {
        /// File paths: `/` separates segments.
        case path
        /// Free text: no separators.
        case text
    }

    private enum Token: Sendable, Hashable {
        case literal(Unicode.Scalar)
        /// `?`: one character (not `/` in path mode).
        case one
        /// `*`: any run of characters (not `/` in path mode).
        case star
        /// `**`: any run of characters, `/` included.
        case globstar
        /// `**/` in path mode: nothing, or any run ending in `/`.
        case directories
    }

    /// The pattern as written.
    public let pattern: String
    /// How separators are treated.
    public let mode: Mode
    private let tokens: [Token]

    /// Compiles `pattern` for `mode`.
    public init(_ pattern: String, mode: Mode) {
        self.pattern = pattern
        self.mode = mode
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "*":
                var run = 0
                while index < scalars.count, scalars[index] == "*" {
                    run += 1
                    index += 1
                }
                if mode == .text {
                    tokens.append(.globstar)
                } else if run == 1 {
                    tokens.append(.star)
                } else if index < scalars.count, scalars[index] == "/" {
                    tokens.append(.directories)
                    index += 1
                } else {
                    tokens.append(.globstar)
                }
                continue
            case "?":
                tokens.append(.one)
            default:
                tokens.append(.literal(scalar))
            }
            index += 1
        }
        self.tokens = tokens
    }

    /// The pattern as written.
    public var description: String { pattern }

    /// Whether the whole of `text` matches the pattern.
    public func matches(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        let count = input.count
        let crossesSeparators = mode == .text
        // next[j]: the tokens after the current one match input[j...]; filled from the last token backwards,
        // so the whole match costs O(tokens × characters) without backtracking blow-ups.
        var next = [Bool](repeating: false, count: count + 1)
        next[count] = true
        var current = [Bool](repeating: false, count: count + 1)
        for token in tokens.reversed() {
            switch token {
            case .literal(let scalar):
                current[count] = false
                for j in stride(from: count - 1, through: 0, by: -1) {
                    current[j] = input[j] == scalar && next[j + 1]
                }
            case .one:
                current[count] = false
                for j in stride(from: count - 1, through: 0, by: -1) {
                    current[j] = (crossesSeparators || input[j] != "/") && next[j + 1]
                }
            case .star:
                current[count] = next[count]
                for j in stride(from: count - 1, through: 0, by: -1) {
                    current[j] = next[j] || ((crossesSeparators || input[j] != "/") && current[j + 1])
                }
            case .globstar:
                current[count] = next[count]
                for j in stride(from: count - 1, through: 0, by: -1) {
                    current[j] = next[j] || current[j + 1]
                }
            case .directories:
                // Either no directory at all, or any run whose last character is a `/`.
                var endsInSlash = false
                current[count] = next[count]
                for j in stride(from: count - 1, through: 0, by: -1) {
                    endsInSlash = (input[j] == "/" && next[j + 1]) || endsInSlash
                    current[j] = next[j] || endsInSlash
                }
            }
            swap(&current, &next)
        }
        return next[0]
    }
}
