/// An owner named by an ownership rule.
public enum OwnerReference: Sendable, Hashable, CustomStringConvertible {
    /// `#slug`: a team of the organization.
    case team(slug: String)
    /// A user, by email (kept in lower case).
    case user(email: String)

    /// The owner as written in a rule.
    public var description: String {
        switch self {
        case .team(let slug): "#\(slug)"
        case .user(let email): email
        }
    }
}

/// Why an ownership rule line was refused.
public struct OwnershipSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the line.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// One ownership rule: `path:<glob> owners…`, `url:<glob> owners…` or `tags.<name>:<glob> owners…`.
///
/// Owners are `#team-slug` or a user's email; the glob cannot contain spaces. Path globs are segment-aware
/// (see ``Glob``) and, unless they start with `/`, match at any directory depth, so `src/billing/**` owns
/// `/app/src/billing/invoice.py` too.
public struct OwnershipRule: Sendable, Hashable {
    /// What part of the event a rule looks at.
    public enum Matcher: Sendable, Hashable {
        /// Any stack-frame file path of `data.paths`.
        case path(Glob)
        /// `data.url`.
        case url(Glob)
        /// The value of tag `name` in `data.tags`.
        case tag(name: String, Glob)
    }

    /// The rule line as written.
    public let line: String
    /// What the rule matches.
    public let matcher: Matcher
    /// The owners, in the order written.
    public let owners: [OwnerReference]

    /// Parses one rule line.
    public init(parsing line: String) throws(OwnershipSyntaxError) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let head = words.first else { throw OwnershipSyntaxError("is empty") }
        guard let colon = head.firstIndex(of: ":") else {
            throw OwnershipSyntaxError("must start with path:, url: or tags.<name>: followed by a pattern")
        }
        let kind = String(head[..<colon])
        let pattern = String(head[head.index(after: colon)...])
        guard !pattern.isEmpty else { throw OwnershipSyntaxError("has an empty pattern after \"\(kind):\"") }
        switch kind {
        case "path":
            var normalized = pattern.replacingBackslashes()
            if normalized.hasPrefix("/") {
                normalized.removeFirst()
            } else if !normalized.hasPrefix("**/") {
                normalized = "**/" + normalized
            }
            matcher = .path(Glob(normalized, mode: .path))
        case "url":
            matcher = .url(Glob(pattern, mode: .text))
        default:
            guard kind.hasPrefix("tags."), kind.count > 5 else {
                throw OwnershipSyntaxError("has unknown matcher \"\(kind)\" (expected path, url or tags.<name>)")
            }
            matcher = .tag(name: String(kind.dropFirst(5)), Glob(pattern, mode: .text))
        }
        let ownerWords = words.dropFirst()
        guard !ownerWords.isEmpty else { throw OwnershipSyntaxError("names no owner (#team-slug or user email)") }
        var owners: [OwnerReference] = []
        for word in ownerWords {
            if word.hasPrefix("#") {
                guard word.count > 1 else { throw OwnershipSyntaxError("has an empty team owner \"#\"") }
                owners.append(.team(slug: String(word.dropFirst())))
            } else if AddressValidator.emailProblem(word) == nil {
                owners.append(.user(email: word.lowercased()))
            } else {
                throw OwnershipSyntaxError("has owner \"\(word)\" that is neither #team-slug nor an email")
            }
        }
        self.line = line
        self.owners = owners
    }

    /// Whether the rule matches `subject`.
    public func matches(_ subject: OwnershipSubject) -> Bool {
        switch matcher {
        case .path(let glob):
            subject.paths.contains { glob.matches(OwnershipRule.normalizedPath($0)) }
        case .url(let glob):
            subject.url.map(glob.matches) ?? false
        case .tag(let name, let glob):
            subject.tags[name].map(glob.matches) ?? false
        }
    }

    /// A path as rules see it: forward slashes, no leading `/` or `./`.
    static func normalizedPath(_ path: String) -> String {
        var normalized = path.replacingBackslashes()
        while normalized.hasPrefix("./") { normalized.removeFirst(2) }
        while normalized.hasPrefix("/") { normalized.removeFirst() }
        return normalized
    }
}

extension String {
    fileprivate func replacingBackslashes() -> String {
        contains("\\") ? String(map { $0 == "\\" ? "/" : $0 }) : self
    }
}
