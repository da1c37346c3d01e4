import Foundation

/// The directory as a store holds it: each record's JSON body by kind, plus the subscription and preference rows
/// already decoded from their columns. Both stores read one of these in a single snapshot and decode it after the
/// read, off the connection (JSON decoding is the expensive part).
public struct StoredDirectory: Sendable {
    /// The bodies of one kind, gathered into one JSON array as they are read: each kind is decoded in one decoder
    /// run (thousands of users decode much faster that way than through one run each), and no body is held twice,
    /// once on its own and once in the array (loading a 5,000-member directory was the daemon's memory peak).
    public struct Bodies: Sendable {
        private var json = Data([UInt8(ascii: "[")])
        /// How many bodies were appended.
        public private(set) var count = 0

        public init() {}

        public mutating func append(_ body: Data) {
            if count > 0 { json.append(UInt8(ascii: ",")) }
            json.append(body)
            count += 1
        }

        /// The closed JSON array; leaves this empty, so the bytes are not kept twice.
        mutating func takeArray() -> Data {
            var array = json
            self = Bodies()
            array.append(UInt8(ascii: "]"))
            return array
        }
    }

    public var organizations = Bodies()
    public var users = Bodies()
    public var teams = Bodies()
    public var projects = Bodies()
    public var subscriptions: [IssueSubscription] = []
    public var preferences: [PreferenceRow] = []

    public init() {}

    /// The directory document, each kind decoded in one run; the bodies are given up as they are decoded.
    public mutating func takeDocument() throws -> DirectoryDocument {
        let decoder = JSONDecoder()
        let organizations = try decoder.decode([Organization].self, from: self.organizations.takeArray())
        let users = try decoder.decode([User].self, from: self.users.takeArray())
        let teams = try decoder.decode([Team].self, from: self.teams.takeArray())
        let projects = try decoder.decode([Project].self, from: self.projects.takeArray())
        return DirectoryDocument(
            organizations: organizations,
            users: users,
            teams: teams,
            projects: projects,
            subscriptions: subscriptions,
            preferences: preferences
        )
    }
}

/// A stored value the code does not recognise (an unknown channel, state or party kind): the row was written by
/// a newer Herald or edited by hand.
public struct UnrecognisedStoredValue: Error, CustomStringConvertible {
    public var column: String
    public var value: String

    public init(column: String, value: String) {
        self.column = column
        self.value = value
    }

    public var description: String { "unrecognised stored \(column) \"\(value)\"" }
}

extension DirectoryParty {
    /// The `party_kind`/`owner_kind` and id columns of a subscriber or preference owner.
    public var storedColumns: (kind: String, id: String) {
        switch self {
        case .user(let id): ("user", id)
        case .team(let id): ("team", id)
        }
    }

    /// The party stored as `kind` and `id`.
    public init(storedKind kind: String, id: String) throws {
        switch kind {
        case "user": self = .user(id)
        case "team": self = .team(id)
        default: throw UnrecognisedStoredValue(column: "party kind", value: kind)
        }
    }
}
