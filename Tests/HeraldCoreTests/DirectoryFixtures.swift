import Foundation
import HeraldCore

/// Builders for directory snapshots and events used by the participant, preference and subscription tests.
enum Fixture {
    static let catalog = Catalog()
    static let base = Date(timeIntervalSince1970: 1_800_000_000)

    static func entry(_ key: String) -> CatalogEntry { catalog.entry(for: key)! }

    /// A user with every address, verified email, active, last active `minutesAgo` before `base`.
    static func user(
        _ id: String,
        minutesAgo: Int? = nil,
        isActive: Bool = true,
        emailVerified: Bool = true,
        phone: String? = "+15550000001",
        slackId: String? = "U0000000001",
        selfNotifications: Bool = false
    ) -> User {
        User(
            id: id,
            organization: "acme",
            name: "User \(id)",
            email: "\(id)@acme.test",
            emailVerified: emailVerified,
            phone: phone,
            slackId: slackId,
            lastActiveAt: minutesAgo.map { base.addingTimeInterval(-60 * Double($0)) },
            isActive: isActive,
            selfNotifications: selfNotifications
        )
    }

    /// A snapshot with organization `acme`, team `t1` (slug `backend-team`) of `users`, project `p1` of `t1`.
    static func snapshot(
        users: [User],
        teamSlack: String? = nil,
        extraTeams: [Team] = [],
        projectTeams: [String] = ["t1"],
        `fallthrough`: FallthroughChoice = .activeMembers,
        ownership: [String] = [],
        subscriptions: [IssueSubscription] = [],
        preferences: [PreferenceRow] = [],
        teamMembers: [String]? = nil
    ) -> DirectorySnapshot {
        DirectorySnapshot(
            organizations: [Organization(id: "acme", slug: "acme-slug", name: "Acme")],
            users: users,
            teams: [
                Team(
                    id: "t1",
                    organization: "acme",
                    slug: "backend-team",
                    members: teamMembers ?? users.map(\.id),
                    slackChannel: teamSlack
                )
            ] + extraTeams,
            projects: [
                Project(
                    id: "p1",
                    organization: "acme",
                    slug: "backend",
                    teams: projectTeams,
                    fallthrough: `fallthrough`,
                    ownership: ownership
                )
            ],
            subscriptions: subscriptions,
            preferences: preferences
        )
    }

    static func event(
        _ key: String,
        actor: String? = nil,
        issue: String? = "9001",
        data: [JSONKey: JSONValue] = [:],
        recipients: [RecipientSpec] = []
    ) -> Event {
        Event(
            id: "evt1",
            key: key,
            organization: "acme",
            project: "backend",
            actor: actor.map { Actor(id: $0) },
            issue: issue.map { IssueReference(id: $0) },
            data: data,
            recipients: recipients,
            occurredAt: base
        )
    }

    static func plan(
        _ event: Event,
        _ directory: DirectorySnapshot,
        limit: Int = ParticipantResolver.defaultFallthroughLimit
    ) -> AudiencePlan {
        ParticipantResolver(fallthroughLimit: limit).plan(for: event, entry: entry(event.key), directory: directory)
    }

    static func row(
        _ user: String,
        _ scope: PreferenceScope,
        _ scopeId: String,
        _ subject: String,
        _ channel: Channel? = nil,
        _ value: PreferenceValue
    ) -> PreferenceRow {
        PreferenceRow(
            owner: .user(user),
            scope: scope,
            scopeId: scopeId,
            subject: subject,
            channel: channel,
            value: value
        )
    }
}

extension AudiencePlan {
    /// Sorted `id` of user targets on `channel`.
    func userIds(on channel: Channel) -> [String] {
        targets.filter { $0.kind == .user && $0.channel == channel }.map(\.id).sorted()
    }

    /// Sorted distinct user ids with any target.
    var userIds: [String] {
        Array(Set(targets.filter { $0.kind == .user }.map(\.id))).sorted()
    }

    /// The reasons recorded for `recipient`, sorted.
    func reasons(for recipient: String) -> [String] {
        allSuppressions.filter { $0.recipient == recipient }.map(\.reason).sorted()
    }
}

extension JSONValue {
    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
}
