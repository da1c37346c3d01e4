/// One change an event makes to an issue's subscriptions.
public enum SubscriptionChange: Sendable, Hashable {
    /// Store this new row.
    case subscribe(IssueSubscription)
    /// Delete this existing row.
    case remove(IssueSubscription)
}

/// The subscriptions an event implies, the way the upstream tracker would record them (SPEC §5.3).
///
/// - `assigned` subscribes the assignee (a team assignee: the team) with reason `assigned`, and removes the
///   active `assigned` rows of everyone else (the previous assignee).
/// - `note` subscribes its author (`comment`), the mentioned users (`mentioned`) and the members of the
///   mentioned teams (`teamMentioned`), in that order of precedence.
/// - `resolved*`, `unresolved` and `archived` subscribe the actor (`statusChange`).
///
/// Only parties without a row are subscribed. An inactive row is an explicit unsubscribe and is never
/// re-activated. An existing active row is left as it is, whatever its reason: the first reason someone
/// followed the issue for stays (as the upstream tracker ignores the conflicting insert), and because a
/// reassignment removes only `assigned` rows, a user who commented before being assigned keeps following
/// the issue after being unassigned.
public enum ImplicitSubscriptions {
    /// Keys whose actor is subscribed with reason `statusChange`.
    public static let statusChangeKeys: Set<String> = [
        "resolved", "resolved_in_release", "resolved_in_commit", "resolved_in_pull_request", "resolved_by_age",
        "unresolved", "archived",
    ]

    /// The changes `event` makes to the subscriptions `current` of its issue in project `projectId`.
    ///
    /// `membersOfTeam` returns the members of a mentioned team.
    public static func changes(
        for event: Event,
        projectId: String,
        current: IssueSubscriptions,
        membersOfTeam: (String) -> [String]
    ) -> [SubscriptionChange] {
        guard let issue = event.issue?.id, !issue.isEmpty else { return [] }
        var changes: [SubscriptionChange] = []
        var subscribed: Set<DirectoryParty> = []
        func subscribe(_ party: DirectoryParty, _ reason: SubscriptionReason) {
            // Any existing row wins: inactive rows are explicit unsubscribes, active rows keep their reason.
            guard current.subscription(of: party) == nil, subscribed.insert(party).inserted else { return }
            switch party {
            case .user(let id):
                changes.append(
                    .subscribe(IssueSubscription(issue: issue, project: projectId, user: id, reason: reason))
                )
            case .team(let id):
                changes.append(
                    .subscribe(IssueSubscription(issue: issue, project: projectId, team: id, reason: reason))
                )
            }
        }

        switch event.key {
        case "assigned":
            guard let assignee = DirectoryParty(assignee: event.data["assignee"]) else { return [] }
            for row in current.all where row.active && row.reason == .assigned && row.subscriber != assignee {
                changes.append(.remove(row))
            }
            subscribe(assignee, .assigned)
        case "note":
            if let author = event.actor?.id, !author.isEmpty { subscribe(.user(author), .comment) }
            for mention in event.data["mentions"]?.arrayValue ?? [] {
                if let id = mention.stringValue, !id.isEmpty { subscribe(.user(id), .mentioned) }
            }
            for mention in event.data["teamMentions"]?.arrayValue ?? [] {
                guard let teamId = mention.stringValue else { continue }
                for member in membersOfTeam(teamId) { subscribe(.user(member), .teamMentioned) }
            }
        case let key where statusChangeKeys.contains(key):
            if let actor = event.actor?.id, !actor.isEmpty { subscribe(.user(actor), .statusChange) }
        default:
            break
        }
        return changes
    }

    /// The changes `event` makes, reading the project, the issue's subscriptions and team members from
    /// `directory`; users and teams the directory does not know are not subscribed.
    public static func changes(for event: Event, in directory: DirectorySnapshot) -> [SubscriptionChange] {
        guard let organization = directory.organization(reference: event.organization),
            let projectReference = event.project,
            let project = directory.project(reference: projectReference, organization: organization.id),
            let issue = event.issue?.id
        else { return [] }
        let all = changes(
            for: event,
            projectId: project.id,
            current: directory.subscriptions(project: project.id, issue: issue),
            membersOfTeam: { directory.team(id: $0)?.members ?? [] }
        )
        return all.filter { change in
            guard case .subscribe(let row) = change else { return true }
            if let user = row.user { return directory.user(id: user) != nil }
            if let team = row.team { return directory.team(id: team) != nil }
            return false
        }
    }

    /// `changes` as the subscriptions to apply before an event's audience is computed and the removals to
    /// apply after it (SPEC §5.3: the previous assignee still hears of the reassignment).
    public static func split(
        _ changes: [SubscriptionChange]
    ) -> (additions: [SubscriptionChange], removals: [SubscriptionChange]) {
        var additions: [SubscriptionChange] = []
        var removals: [SubscriptionChange] = []
        for change in changes {
            if case .remove = change { removals.append(change) } else { additions.append(change) }
        }
        return (additions, removals)
    }

    /// `rows` with `changes` applied: removals delete the subscriber's row of that issue, subscriptions append.
    public static func applying(_ changes: [SubscriptionChange], to rows: [IssueSubscription]) -> [IssueSubscription] {
        var result = rows
        for change in changes {
            switch change {
            case .subscribe(let row):
                result.append(row)
            case .remove(let row):
                result.removeAll {
                    $0.project == row.project && $0.issue == row.issue && $0.subscriber == row.subscriber
                }
            }
        }
        return result
    }
}
