/// The subscriptions of one issue, indexed by subscriber.
public struct IssueSubscriptions: Sendable, Hashable {
    /// User rows (active or not) by user id.
    public var users: [String: IssueSubscription]
    /// Team rows (active or not) by team id.
    public var teams: [String: IssueSubscription]

    /// Creates an index; a later row for the same subscriber replaces an earlier one.
    public init(_ rows: some Sequence<IssueSubscription> = []) {
        var users: [String: IssueSubscription] = [:]
        var teams: [String: IssueSubscription] = [:]
        for row in rows {
            if let user = row.user {
                users[user] = row
            } else if let team = row.team {
                teams[team] = row
            }
        }
        self.users = users
        self.teams = teams
    }

    /// Every row, users first, each group sorted by subscriber id.
    public var all: [IssueSubscription] {
        users.keys.sorted().map { users[$0]! } + teams.keys.sorted().map { teams[$0]! }
    }

    /// The row of `party`, if any.
    public func subscription(of party: DirectoryParty) -> IssueSubscription? {
        switch party {
        case .user(let id): users[id]
        case .team(let id): teams[id]
        }
    }
}

/// An immutable, indexed copy of the directory: what fan-out reads on the hot path (SPEC §5.2).
///
/// Every lookup is a dictionary access. Derived views that fan-out needs per event (a project's members,
/// its active members by recency, its parsed ownership rules) are computed once here, so an event on a
/// 5,000-member project never sorts or scans members. Writes build a new snapshot. The snapshot does not
/// validate: dangling references are skipped (an import validates first, see
/// ``DirectoryDocument/validate(catalog:)``).
public struct DirectorySnapshot: Sendable {
    private struct ScopedKey: Sendable, Hashable {
        var organization: String
        var name: String
    }

    private struct IssueKey: Sendable, Hashable {
        var project: String
        var issue: String
    }

    /// Organizations by id.
    public let organizations: [String: Organization]
    /// Users by id.
    public let users: [String: User]
    /// Teams by id.
    public let teams: [String: Team]
    /// Projects by id.
    public let projects: [String: Project]

    private let organizationIdBySlug: [String: String]
    private let userIdByEmail: [ScopedKey: String]
    private let teamIdBySlug: [ScopedKey: String]
    private let projectIdBySlug: [ScopedKey: String]
    private let membersByProject: [String: [String]]
    private let memberSetByProject: [String: Set<String>]
    private let activeMembersByProject: [String: [String]]
    private let rulesByProject: [String: [OwnershipRule]]
    private var subscriptionsByIssue: [IssueKey: IssueSubscriptions]
    private let preferencesByUser: [String: [PreferenceRow]]
    private let preferencesByTeam: [String: [PreferenceRow]]

    /// Builds the indexes from directory records; for duplicate ids the later record wins.
    public init(
        organizations: [Organization] = [],
        users: [User] = [],
        teams: [Team] = [],
        projects: [Project] = [],
        subscriptions: [IssueSubscription] = [],
        preferences: [PreferenceRow] = []
    ) {
        var organizationsById: [String: Organization] = [:]
        var organizationIdBySlug: [String: String] = [:]
        for organization in organizations {
            organizationsById[organization.id] = organization
            organizationIdBySlug[organization.slug] = organization.id
        }
        var usersById: [String: User] = [:]
        var userIdByEmail: [ScopedKey: String] = [:]
        usersById.reserveCapacity(users.count)
        for user in users {
            usersById[user.id] = user
            if let email = user.email, !email.isEmpty {
                userIdByEmail[ScopedKey(organization: user.organization, name: email.lowercased())] = user.id
            }
        }
        var teamsById: [String: Team] = [:]
        var teamIdBySlug: [ScopedKey: String] = [:]
        for team in teams {
            teamsById[team.id] = team
            teamIdBySlug[ScopedKey(organization: team.organization, name: team.slug)] = team.id
        }
        var projectsById: [String: Project] = [:]
        var projectIdBySlug: [ScopedKey: String] = [:]
        for project in projects {
            projectsById[project.id] = project
            projectIdBySlug[ScopedKey(organization: project.organization, name: project.slug)] = project.id
        }

        var membersByProject: [String: [String]] = [:]
        var memberSetByProject: [String: Set<String>] = [:]
        var activeMembersByProject: [String: [String]] = [:]
        var rulesByProject: [String: [OwnershipRule]] = [:]
        for project in projectsById.values {
            var members: [String] = []
            var seen: Set<String> = []
            for teamId in project.teams {
                for userId in teamsById[teamId]?.members ?? [] where usersById[userId] != nil {
                    if seen.insert(userId).inserted { members.append(userId) }
                }
            }
            membersByProject[project.id] = members
            memberSetByProject[project.id] = seen
            activeMembersByProject[project.id] = DirectorySnapshot.byRecency(
                members.compactMap { usersById[$0] }.filter(\.isActive)
            )
            rulesByProject[project.id] = OwnershipEvaluator.parse(project.ownership)
        }

        var subscriptionRows: [IssueKey: [IssueSubscription]] = [:]
        for row in subscriptions {
            subscriptionRows[IssueKey(project: row.project, issue: row.issue), default: []].append(row)
        }
        var preferencesByUser: [String: [PreferenceRow]] = [:]
        var preferencesByTeam: [String: [PreferenceRow]] = [:]
        for row in preferences {
            if let user = row.user {
                preferencesByUser[user, default: []].append(row)
            } else if let team = row.team {
                preferencesByTeam[team, default: []].append(row)
            }
        }

        self.organizations = organizationsById
        self.users = usersById
        self.teams = teamsById
        self.projects = projectsById
        self.organizationIdBySlug = organizationIdBySlug
        self.userIdByEmail = userIdByEmail
        self.teamIdBySlug = teamIdBySlug
        self.projectIdBySlug = projectIdBySlug
        self.membersByProject = membersByProject
        self.memberSetByProject = memberSetByProject
        self.activeMembersByProject = activeMembersByProject
        self.rulesByProject = rulesByProject
        self.subscriptionsByIssue = subscriptionRows.mapValues { IssueSubscriptions($0) }
        self.preferencesByUser = preferencesByUser
        self.preferencesByTeam = preferencesByTeam
    }

    /// Builds the indexes from an import document.
    public init(document: DirectoryDocument) {
        self.init(
            organizations: document.organizations,
            users: document.users,
            teams: document.teams,
            projects: document.projects,
            subscriptions: document.subscriptions,
            preferences: document.preferences
        )
    }

    /// User ids sorted by `lastActiveAt` descending, never-active users last, ties by id.
    static func byRecency(_ users: [User]) -> [String] {
        users.sorted { left, right in
            switch (left.lastActiveAt, right.lastActiveAt) {
            case (let l?, let r?): l != r ? l > r : left.id < right.id
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): left.id < right.id
            }
        }.map(\.id)
    }

    // MARK: Organizations

    /// The organization with id `id`.
    public func organization(id: String) -> Organization? { organizations[id] }

    /// The organization an event names by id or by slug (the id is tried first).
    public func organization(reference: String) -> Organization? {
        if let organization = organizations[reference] { return organization }
        return organizationIdBySlug[reference].flatMap { organizations[$0] }
    }

    // MARK: Users

    /// The user with id `id`.
    public func user(id: String) -> User? { users[id] }

    /// The user of `organization` whose email is `email`, compared case-insensitively.
    public func user(email: String, organization: String) -> User? {
        userIdByEmail[ScopedKey(organization: organization, name: email.lowercased())].flatMap { users[$0] }
    }

    // MARK: Teams

    /// The team with id `id`.
    public func team(id: String) -> Team? { teams[id] }

    /// The team of `organization` with slug `slug`.
    public func team(slug: String, organization: String) -> Team? {
        teamIdBySlug[ScopedKey(organization: organization, name: slug)].flatMap { teams[$0] }
    }

    // MARK: Projects

    /// The project with id `id`.
    public func project(id: String) -> Project? { projects[id] }

    /// The project an event names by id or by slug within `organization` (the id is tried first).
    public func project(reference: String, organization: String) -> Project? {
        if let project = projects[reference], project.organization == organization { return project }
        return projectIdBySlug[ScopedKey(organization: organization, name: reference)].flatMap { projects[$0] }
    }

    /// The members of the project's teams (known users only), without duplicates, in team order.
    public func members(ofProject projectId: String) -> [String] { membersByProject[projectId] ?? [] }

    /// Whether `userId` is a member of one of the project's teams.
    public func isMember(_ userId: String, ofProject projectId: String) -> Bool {
        memberSetByProject[projectId]?.contains(userId) ?? false
    }

    /// The active members of the project's teams, most recently active first, never-active last, ties by id.
    public func activeMembersByRecency(ofProject projectId: String) -> [String] {
        activeMembersByProject[projectId] ?? []
    }

    /// The project's ownership rules, parsed (lines that do not parse are left out).
    public func ownershipRules(ofProject projectId: String) -> [OwnershipRule] { rulesByProject[projectId] ?? [] }

    // MARK: Subscriptions and preferences

    /// Applies implicit subscription changes of one event in place (fan-out keeps its snapshot current with the
    /// subscriptions it writes itself, instead of reloading the whole directory after every event).
    public mutating func apply(_ changes: [SubscriptionChange]) {
        for change in changes {
            let row: IssueSubscription
            switch change {
            case .subscribe(let subscribed): row = subscribed
            case .remove(let removed): row = removed
            }
            let key = IssueKey(project: row.project, issue: row.issue)
            let current = subscriptionsByIssue[key]?.all ?? []
            subscriptionsByIssue[key] = IssueSubscriptions(ImplicitSubscriptions.applying([change], to: current))
        }
    }

    /// The subscriptions of issue `issue` of project `project`.
    public func subscriptions(project: String, issue: String) -> IssueSubscriptions {
        subscriptionsByIssue[IssueKey(project: project, issue: issue)] ?? IssueSubscriptions()
    }

    /// The preference rows of `party`, in stored order.
    public func preferences(of party: DirectoryParty) -> [PreferenceRow] {
        switch party {
        case .user(let id): preferencesByUser[id] ?? []
        case .team(let id): preferencesByTeam[id] ?? []
        }
    }
}
