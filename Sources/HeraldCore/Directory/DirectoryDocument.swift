import Foundation

/// The whole directory as `herald import` reads it (SPEC §5.2); each list defaults to empty.
public struct DirectoryDocument: Sendable, Hashable, Codable {
    public var organizations: [Organization]
    public var users: [User]
    public var teams: [Team]
    public var projects: [Project]
    public var subscriptions: [IssueSubscription]
    public var preferences: [PreferenceRow]

    /// Creates a document.
    public init(
        organizations: [Organization] = [],
        users: [User] = [],
        teams: [Team] = [],
        projects: [Project] = [],
        subscriptions: [IssueSubscription] = [],
        preferences: [PreferenceRow] = []
    ) {
        self.organizations = organizations
        self.users = users
        self.teams = teams
        self.projects = projects
        self.subscriptions = subscriptions
        self.preferences = preferences
    }

    private enum CodingKeys: String, CodingKey {
        case organizations, users, teams, projects, subscriptions, preferences
    }

    /// Decodes the document; absent lists are empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        organizations = try container.decodeIfPresent([Organization].self, forKey: .organizations) ?? []
        users = try container.decodeIfPresent([User].self, forKey: .users) ?? []
        teams = try container.decodeIfPresent([Team].self, forKey: .teams) ?? []
        projects = try container.decodeIfPresent([Project].self, forKey: .projects) ?? []
        subscriptions = try container.decodeIfPresent([IssueSubscription].self, forKey: .subscriptions) ?? []
        preferences = try container.decodeIfPresent([PreferenceRow].self, forKey: .preferences) ?? []
    }

    /// Decodes and validates an import file; any problem refuses the whole file, naming each field.
    public static func parse(
        _ data: Data,
        catalog: Catalog,
        notifiers: [Int: Channel]? = nil
    ) throws(ValidationFailure) -> DirectoryDocument {
        let document = try decodeStrictly(data)
        let problems = document.validate(catalog: catalog, notifiers: notifiers)
        guard problems.isEmpty else { throw ValidationFailure(code: "VALIDATION_FAILED", details: problems) }
        return document
    }
}

extension DirectoryDocument {
    /// Parses and shape-checks an import file (SPEC §3.1, §5.2) and decodes it; nothing is validated
    /// against other records yet.
    public static func decodeStrictly(_ data: Data) throws(ValidationFailure) -> DirectoryDocument {
        let problems = DirectoryShapes.check([UInt8](data), against: DirectoryShapes.document)
        guard problems.isEmpty else { throw ValidationFailure(code: "VALIDATION_FAILED", details: problems) }
        do {
            return try JSONDecoder().decode(DirectoryDocument.self, from: data)
        } catch let error as DecodingError {
            throw ValidationFailure(code: "VALIDATION_FAILED", details: [FieldError(decodingError: error)])
        } catch {
            throw ValidationFailure(
                code: "VALIDATION_FAILED",
                details: [FieldError(field: "body", message: "could not be decoded")]
            )
        }
    }
}

extension FieldError {
    /// A field error naming the path a decoding error occurred at, e.g. `users[3].emailVerified`.
    public init(decodingError error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(field: path(context.codingPath + [key]), message: "is required")
        case .typeMismatch(let type, let context):
            self.init(field: path(context.codingPath), message: "must be of type \(type)")
        case .valueNotFound(let type, let context):
            self.init(field: path(context.codingPath), message: "must not be null (expected \(type))")
        case .dataCorrupted(let context):
            let message =
                context.codingPath.isEmpty ? "is not valid JSON" : Self.corruptionMessage(context.debugDescription)
            self.init(field: path(context.codingPath), message: message)
        @unknown default:
            self.init(field: "body", message: "could not be decoded")
        }
    }

    private static func corruptionMessage(_ description: String) -> String {
        // Enum decoding reports "Cannot initialize X from invalid String value y"; say it plainly.
        if let range = description.range(of: "from invalid String value ") {
            return "has unknown value \"\(description[range.upperBound...])\""
        }
        return description
    }
}
