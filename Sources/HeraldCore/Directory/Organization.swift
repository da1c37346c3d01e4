/// An organization of the upstream application: the outermost scope of users, teams and projects.
public struct Organization: Sendable, Hashable, Codable {
    /// The upstream id.
    public var id: String
    /// The URL-safe name events may use instead of the id.
    public var slug: String
    /// A display name.
    public var name: String

    /// Creates an organization.
    public init(id: String, slug: String, name: String) {
        self.id = id
        self.slug = slug
        self.name = name
    }
}
