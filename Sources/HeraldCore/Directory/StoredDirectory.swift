import Foundation

/// The directory as a store holds it: each record's JSON body by kind, plus the subscription and preference rows
/// already decoded from their columns. Both stores read one of these in a single snapshot and decode it after the
/// read, off the connection (JSON decoding is the expensive part).
public struct StoredDirectory: Sendable {
    public var organizations: [Data] = []
    public var users: [Data] = []
    public var teams: [Data] = []
    public var projects: [Data] = []
    public var subscriptions: [IssueSubscription] = []
    public var preferences: [PreferenceRow] = []

    public init() {}

    /// The directory document: each kind decoded in one decoder run over a JSON array of its bodies (thousands
    /// of users decode much faster that way than through one run each).
    public func document() throws -> DirectoryDocument {
        let decoder = JSONDecoder()
        return DirectoryDocument(
            organizations: try decoder.decode([Organization].self, from: Self.jsonArray(organizations)),
            users: try decoder.decode([User].self, from: Self.jsonArray(users)),
            teams: try decoder.decode([Team].self, from: Self.jsonArray(teams)),
            projects: try decoder.decode([Project].self, from: Self.jsonArray(projects)),
            subscriptions: subscriptions,
            preferences: preferences
        )
    }

    /// The JSON array of the given JSON values.
    static func jsonArray(_ bodies: [Data]) -> Data {
        var data = Data()
        data.reserveCapacity(bodies.reduce(2) { $0 + $1.count + 1 })
        data.append(UInt8(ascii: "["))
        for (index, body) in bodies.enumerated() {
            if index > 0 { data.append(UInt8(ascii: ",")) }
            data.append(body)
        }
        data.append(UInt8(ascii: "]"))
        return data
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
