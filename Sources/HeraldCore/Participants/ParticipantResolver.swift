/// Decides who hears about an event personally (SPEC §6): pure, reading only the event and a snapshot.
///
/// By the key's audience: workflow subscribers (§6.1), release participants (§6.2), alert targets with the
/// fallthrough rule (§6.3), or nobody (route-only keys, which yield no personal target even when the event
/// names recipients); then the event's explicit user and team recipients (§6.5). Raw-address recipients are
/// the caller's: they bypass preferences and need no directory. Common rules (§6.4) apply to every
/// candidate: preferences per channel, actor exclusion, teams never on email, a team without an address on
/// a channel expanded into its members there, one target per (recipient, channel), `no_address:<channel>`.
///
/// Decisions where the specification leaves room:
/// - Email needs a *verified* address; an unverified one counts as no address.
/// - Webhook has no personal address and is skipped silently; PagerDuty is never personal.
/// - Teams holding an active subscription to the issue are workflow candidates too (a team assignee's
///   subscription keeps the team informed); a team is notified on the channels its own rows enable.
/// - Teams never receive email: on email a team always stands for its members, who pass through their own
///   preferences, actor exclusion and de-duplication (a team's own email row is meaningless and ignored).
/// - Alert targets, owners, assignees and fallthrough candidates (and the members a team among them is
///   expanded into) must be active members of one of the project's teams: others are recorded as
///   `not_project_member` or `inactive_member`; a team without access to the project as `not_project_team`.
/// - Critical keys ignore user-scope rows and actor exclusion.
/// - A recipient who ends up with a target on a channel has no suppression recorded for that channel.
public struct ParticipantResolver: Sendable {
    /// The default number of recently active members an unowned alert falls through to.
    public static let defaultFallthroughLimit = 20

    /// How many recently active members an unowned alert falls through to.
    public var fallthroughLimit: Int

    /// Creates a resolver.
    public init(fallthroughLimit: Int = ParticipantResolver.defaultFallthroughLimit) {
        self.fallthroughLimit = fallthroughLimit
    }

    /// The personal audience of `event`, whose catalog entry is `entry`, against `directory`.
    public func plan(for event: Event, entry: CatalogEntry, directory: DirectorySnapshot) -> AudiencePlan {
        var builder = AudienceBuilder(event: event, entry: entry, directory: directory)
        switch entry.audience {
        case .routesOnly:
            return AudiencePlan()
        case .subscribers:
            builder.addSubscribers()
        case .releaseParticipants:
            builder.addReleaseParticipants()
        case .alertTargets:
            builder.addAlertTargets(fallthroughLimit: max(0, fallthroughLimit))
        case .explicit:
            break
        }
        builder.addExplicitRecipients()
        return builder.finish()
    }
}

/// How a user candidate's option value decides whether they are in.
private enum Gate {
    /// In unless the value is `never`.
    case anyValue
    /// §6.1: an explicit unsubscribe excludes; a subscription needs `always` or `subscribeOnly`; no row
    /// needs `always`. The reason becomes the subscription's.
    case workflow(IssueSubscription?)
    /// A member standing in for a team on a workflow key: out if they unsubscribed, else like `anyValue`.
    case workflowMember(IssueSubscription?)
    /// §6.2: `always` → `deploySetting`; `committedOnly` → `committed` only with a matching commit.
    case deploy(committed: Bool)
}

private struct TargetKey: Hashable {
    var kind: Recipient.Kind
    var id: String
    var channel: Channel
}

private struct SuppressionKey: Hashable {
    var recipient: String
    var channel: Channel?
    var reason: String
}

/// The mutable state of planning one event.
private struct AudienceBuilder {
    let event: Event
    let entry: CatalogEntry
    let directory: DirectorySnapshot
    let organization: Organization?
    let project: Project?
    let actorId: String?

    /// Set while planning alert targets: every user must be an active member of the project's teams.
    private var projectMembersOnly = false
    private var preferenceCache: [DirectoryParty: EffectivePreference] = [:]
    private var targets: [AudienceTarget] = []
    private var targetKeys: Set<TargetKey> = []
    private var suppressions: [Suppression] = []
    private var suppressionKeys: Set<SuppressionKey> = []
    private var cuts: [SuppressionCut] = []

    init(event: Event, entry: CatalogEntry, directory: DirectorySnapshot) {
        self.event = event
        self.entry = entry
        self.directory = directory
        let organization = directory.organization(reference: event.organization)
        self.organization = organization
        self.project = organization.flatMap { organization in
            event.project.flatMap { directory.project(reference: $0, organization: organization.id) }
        }
        self.actorId = event.actor?.id
    }

    // MARK: Audiences

    /// §6.1, plus the team assignee of `assigned`.
    mutating func addSubscribers() {
        guard let project else { return }
        let subscriptions =
            event.issue.map { directory.subscriptions(project: project.id, issue: $0.id) } ?? IssueSubscriptions()
        if event.key == "assigned", case .team(let teamId)? = DirectoryParty(assignee: event.data["assignee"]) {
            addTeam(teamId, reason: .assigned, teamGate: .anyValue) { .workflowMember(subscriptions.users[$0]) }
            // The previous assignee still hears that the issue was reassigned away from them (§5.3): their
            // `assigned` row is removed only after this audience is computed.
            for row in subscriptions.all where row.active && row.reason == .assigned {
                switch row.subscriber {
                case .user(let id)?: addUser(id, reason: .assigned, gate: .workflow(row))
                case .team(let id)? where id != teamId:
                    addTeam(id, reason: .assigned, teamGate: .workflow(row)) {
                        .workflowMember(subscriptions.users[$0])
                    }
                default: break
                }
            }
            return
        }
        for userId in directory.members(ofProject: project.id) {
            addUser(userId, reason: .implicit, gate: .workflow(subscriptions.users[userId]))
        }
        for teamId in subscriptions.teams.keys.sorted() {
            guard let subscription = subscriptions.teams[teamId], subscription.active else { continue }
            addTeam(teamId, reason: subscription.reason.deliveryReason, teamGate: .workflow(subscription)) {
                .workflowMember(subscriptions.users[$0])
            }
        }
    }

    /// §6.2: active members with a verified email of the teams of the release's projects.
    mutating func addReleaseParticipants() {
        guard let organization else { return }
        var projectIds: [String] = []
        var references: [String] = event.project.map { [$0] } ?? []
        for value in event.data["projects"]?.arrayValue ?? [] {
            if let reference = value.stringValue ?? value["id"]?.stringValue ?? value["slug"]?.stringValue {
                references.append(reference)
            }
        }
        for reference in references {
            if let id = directory.project(reference: reference, organization: organization.id)?.id,
                !projectIds.contains(id)
            {
                projectIds.append(id)
            }
        }
        var commitEmails: Set<String> = []
        for commit in event.data["commits"]?.arrayValue ?? [] {
            if let email = commit["authorEmail"]?.stringValue { commitEmails.insert(email.lowercased()) }
        }
        var seen: Set<String> = []
        for projectId in projectIds {
            for userId in directory.members(ofProject: projectId) where seen.insert(userId).inserted {
                guard let user = directory.user(id: userId), user.isActive, let email = user.verifiedEmailKey else {
                    continue
                }
                addUser(userId, reason: .deploySetting, gate: .deploy(committed: commitEmails.contains(email)))
            }
        }
    }

    /// §6.3: member, team or issue-owner targets, then the fallthrough when owners yield nobody.
    mutating func addAlertTargets(fallthroughLimit: Int) {
        guard let project, let organization, !project.teams.isEmpty else { return }
        projectMembersOnly = true
        defer { projectMembersOnly = false }
        let target = event.data["target"]
        let targetId = target?["id"]?.stringValue
        switch target?["type"]?.stringValue ?? "issueOwners" {
        case "member":
            if let targetId { addUser(targetId, reason: .alertTarget, gate: .anyValue) }
            return
        case "team":
            if let targetId { addTeam(targetId, reason: .alertTarget, teamGate: .anyValue) { _ in .anyValue } }
            return
        default:
            break
        }

        var owners: [(party: DirectoryParty, reason: DeliveryReason)] = []
        let rules = directory.ownershipRules(ofProject: project.id)
        if !rules.isEmpty {
            for owner in OwnershipEvaluator.owners(rules, for: OwnershipSubject(data: event.data)) {
                switch owner {
                case .team(let slug):
                    if let team = directory.team(slug: slug, organization: organization.id) {
                        owners.append((.team(team.id), .ownership))
                    }
                case .user(let email):
                    if let user = directory.user(email: email, organization: organization.id) {
                        owners.append((.user(user.id), .ownership))
                    }
                }
            }
        }
        if let assignee = DirectoryParty(assignee: event.data["assignee"]) {
            owners.append((assignee, .assigned))
        } else if let issue = event.issue {
            for row in directory.subscriptions(project: project.id, issue: issue.id).all
            where row.active && row.reason == .assigned {
                if let party = row.subscriber { owners.append((party, .assigned)) }
            }
        }
        owners.removeAll { owner in
            switch owner.party {
            case .user(let id): directory.user(id: id) == nil
            case .team(let id): directory.team(id: id) == nil
            }
        }
        // Owners who may not hear about the project's alerts are recorded and do not count as owners, so an
        // issue owned only by outsiders falls through like an ownerless one.
        owners.removeAll { !isEligible($0.party, in: project) }

        guard owners.isEmpty else {
            for owner in owners {
                switch owner.party {
                case .user(let id): addUser(id, reason: owner.reason, gate: .anyValue)
                case .team(let id): addTeam(id, reason: owner.reason, teamGate: .anyValue) { _ in .anyValue }
                }
            }
            return
        }

        let choice = event.data["fallthrough"]?.stringValue.flatMap(FallthroughChoice.init) ?? project.fallthrough
        switch choice {
        case .noOne:
            break
        case .allMembers:
            for userId in directory.members(ofProject: project.id) {
                addUser(userId, reason: .allMembers, gate: .anyValue)
            }
        case .activeMembers:
            // Already sorted by recency in the snapshot; the cut happens before preferences, and the users
            // beyond it are recorded without resolving anything for them.
            let ranked = directory.activeMembersByRecency(ofProject: project.id)
            for userId in ranked.prefix(fallthroughLimit) {
                addUser(userId, reason: .activeMembers, gate: .anyValue)
            }
            // Each member appears once in the ranking and nothing else records this reason: the cut is kept as
            // one value over the ranking (no string per member, no de-duplication set).
            let cut = ranked.dropFirst(fallthroughLimit)
            if !cut.isEmpty {
                cuts.append(SuppressionCut(eventId: event.id, userIds: cut, reason: SuppressionReason.fallthroughLimit))
            }
        }
    }

    /// Whether `party` may receive the project's alerts (SPEC §6.3); records why not.
    private mutating func isEligible(_ party: DirectoryParty, in project: Project) -> Bool {
        switch party {
        case .user(let id):
            guard directory.isMember(id, ofProject: project.id) else {
                suppress("user:\(id)", nil, SuppressionReason.notProjectMember)
                return false
            }
            guard directory.user(id: id)?.isActive ?? false else {
                suppress("user:\(id)", nil, SuppressionReason.inactiveMember)
                return false
            }
            return true
        case .team(let id):
            guard project.teams.contains(id) else {
                suppress("team:\(id)", nil, SuppressionReason.notProjectTeam)
                return false
            }
            return true
        }
    }

    /// §6.5: the users and teams the event names.
    mutating func addExplicitRecipients() {
        for recipient in event.recipients {
            switch recipient {
            case .user(let id):
                guard let user = directory.user(id: id), organization.map({ $0.id == user.organization }) ?? true
                else {
                    suppress("user:\(id)", nil, SuppressionReason.unknownRecipient)
                    continue
                }
                addUser(id, reason: .explicit, gate: .anyValue)
            case .team(let id):
                guard let team = directory.team(id: id), organization.map({ $0.id == team.organization }) ?? true
                else {
                    suppress("team:\(id)", nil, SuppressionReason.unknownRecipient)
                    continue
                }
                addTeam(id, reason: .explicit, teamGate: .anyValue) { _ in .anyValue }
            case .address:
                continue
            }
        }
    }

    // MARK: Candidates

    /// Applies the gate, actor exclusion and addresses to one user, on every personal channel or only on
    /// `onlyChannel` (a member standing in for a team there).
    mutating func addUser(_ userId: String, reason: DeliveryReason, gate: Gate, onlyChannel: Channel? = nil) {
        guard let user = directory.user(id: userId) else { return }
        let label = "user:\(userId)"
        if projectMembersOnly, let project, !isEligible(.user(userId), in: project) { return }
        let preference = self.preference(of: .user(userId))
        guard let reason = admit(label, preference: preference, reason: reason, gate: gate) else { return }
        if userId == actorId, !user.selfNotifications, !entry.critical {
            suppress(label, nil, SuppressionReason.actorExcluded)
            return
        }
        for channel in onlyChannel.map({ [$0] }) ?? Channel.personal where preference.isEnabled(channel) {
            // Webhook has no personal address: nothing to deliver and nothing worth recording.
            if channel == .webhook { continue }
            guard let address = user.address(on: channel) else {
                suppress(label, channel, SuppressionReason.noAddress(channel))
                continue
            }
            addTarget(
                AudienceTarget(
                    kind: .user,
                    id: userId,
                    channel: channel,
                    reason: reason,
                    address: address,
                    name: user.name
                )
            )
        }
    }

    /// Applies the gate to a team; channels where the team has no address go to its members, each through
    /// their own preferences with `memberGate`.
    mutating func addTeam(
        _ teamId: String,
        reason: DeliveryReason,
        teamGate: Gate,
        memberGate: (String) -> Gate
    ) {
        guard let team = directory.team(id: teamId) else { return }
        let label = "team:\(teamId)"
        if projectMembersOnly, let project, !isEligible(.team(teamId), in: project) { return }
        let preference = self.preference(of: .team(teamId))
        guard let reason = admit(label, preference: preference, reason: reason, gate: teamGate) else { return }
        for channel in Channel.personal where channel == .email || preference.isEnabled(channel) {
            // Teams never receive email: there the team always stands for its members (SPEC §6.4).
            if channel != .email, let address = team.address(on: channel) {
                addTarget(
                    AudienceTarget(
                        kind: .team,
                        id: teamId,
                        channel: channel,
                        reason: reason,
                        address: address,
                        name: team.slug
                    )
                )
            } else {
                for member in team.members {
                    addUser(member, reason: reason, gate: memberGate(member), onlyChannel: channel)
                }
            }
        }
    }

    /// The reason the candidate is in with, or nil after recording why they are out.
    private mutating func admit(
        _ label: String,
        preference: EffectivePreference,
        reason: DeliveryReason,
        gate: Gate
    ) -> DeliveryReason? {
        switch gate {
        case .anyValue:
            break
        case .workflow(let subscription):
            if let subscription, !subscription.active {
                suppress(label, nil, SuppressionReason.unsubscribed)
                return nil
            }
            if preference.value == .never { break }
            if let subscription { return subscription.reason.deliveryReason }
            if preference.value != .always {
                suppress(label, nil, SuppressionReason.preferenceSubscribeOnly)
                return nil
            }
        case .workflowMember(let subscription):
            if let subscription, !subscription.active {
                suppress(label, nil, SuppressionReason.unsubscribed)
                return nil
            }
        case .deploy(let committed):
            switch preference.value {
            case .never: break
            case .committedOnly:
                guard committed else {
                    suppress(label, nil, SuppressionReason.preferenceCommittedOnly)
                    return nil
                }
                return .committed
            case .always, .subscribeOnly:
                return .deploySetting
            }
        }
        if preference.value == .never {
            suppress(label, nil, SuppressionReason.preferenceNever)
            return nil
        }
        return reason
    }

    private mutating func preference(of party: DirectoryParty) -> EffectivePreference {
        if let cached = preferenceCache[party] { return cached }
        let resolved = PreferenceResolver.resolve(
            rows: directory.preferences(of: party),
            entry: entry,
            organizationId: organization?.id,
            projectId: project?.id
        )
        preferenceCache[party] = resolved
        return resolved
    }

    private mutating func addTarget(_ target: AudienceTarget) {
        guard targetKeys.insert(TargetKey(kind: target.kind, id: target.id, channel: target.channel)).inserted else {
            return
        }
        targets.append(target)
    }

    private mutating func suppress(_ recipient: String, _ channel: Channel?, _ reason: String) {
        guard suppressionKeys.insert(SuppressionKey(recipient: recipient, channel: channel, reason: reason)).inserted
        else { return }
        suppressions.append(Suppression(eventId: event.id, recipient: recipient, channel: channel, reason: reason))
    }

    /// The plan, without suppressions contradicted by a target (a recipient who qualified another way).
    func finish() -> AudiencePlan {
        let cuts = cutsWithoutTargets()
        guard !targets.isEmpty, !suppressions.isEmpty else {
            return AudiencePlan(targets: targets, suppressions: suppressions, cuts: cuts)
        }
        var reached: Set<String> = []
        var reachedOn: Set<SuppressionKey> = []
        for target in targets {
            let label = "\(target.kind.rawValue):\(target.id)"
            reached.insert(label)
            reachedOn.insert(SuppressionKey(recipient: label, channel: target.channel, reason: ""))
        }
        let kept = suppressions.filter { suppression in
            guard let channel = suppression.channel else { return !reached.contains(suppression.recipient) }
            return !reachedOn.contains(SuppressionKey(recipient: suppression.recipient, channel: channel, reason: ""))
        }
        return AudiencePlan(targets: targets, suppressions: kept, cuts: cuts)
    }

    /// The cuts without members who are targets another way (an explicit recipient who also ranks below the
    /// limit). Members above the limit never appear in a cut, so only the other users are looked for.
    private func cutsWithoutTargets() -> [SuppressionCut] {
        guard !cuts.isEmpty else { return [] }
        var others: Set<String> = []
        for target in targets where target.kind == .user && target.reason != .activeMembers {
            others.insert(target.id)
        }
        guard !others.isEmpty else { return cuts }
        return cuts.map { cut in
            guard cut.userIds.contains(where: others.contains) else { return cut }
            var kept = cut
            kept.userIds = ArraySlice(cut.userIds.filter { !others.contains($0) })
            return kept
        }
    }
}
