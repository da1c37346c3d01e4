import Foundation

extension DirectoryDocument {
    /// Everything an import must refuse, each naming its entry and field (`users[3].phone`).
    ///
    /// Checks: empty and duplicate ids; unknown organizations; addresses (email, E.164 phone, Slack id,
    /// Teams URL) and time zones; duplicate emails or slugs within an organization; team members, project
    /// teams, subscribers and preference owners that do not exist or live in another organization; ownership
    /// rule syntax and owners; routes (target for the channel, known keys, level, duplicate ids); project
    /// settings ranges; subscription and preference rows (exactly one owner, known scope ids, known subject,
    /// values valid for the subject's type, personal channels, duplicates).
    ///
    /// `notifiers` (the configured notifiers by id with their channel) makes route notifiers and the
    /// project's `emailNotifier`/`smsNotifier` be checked to exist and be of the right channel.
    public func validate(catalog: Catalog, notifiers: [Int: Channel]? = nil) -> [FieldError] {
        var problems: [FieldError] = []
        func problem(_ field: String, _ message: String) { problems.append(FieldError(field: field, message: message)) }
        func checkNotifier(_ id: Int?, channel: Channel, _ field: String) {
            guard let id, let notifiers else { return }
            guard let configured = notifiers[id] else { return problem(field, "no notifier \(id) is configured") }
            if configured != channel {
                problem(field, "notifier \(id) is a \(configured.rawValue) notifier, not \(channel.rawValue)")
            }
        }
        func checkIdentifier(_ value: String, _ field: String) {
            if let reason = Identifier.problem(value) { problem(field, reason) }
        }

        // Organizations.
        var organizationIds: Set<String> = []
        var organizationSlugs: Set<String> = []
        for (index, organization) in organizations.enumerated() {
            let path = "organizations[\(index)]"
            if let reason = Identifier.problem(organization.id) {
                problem("\(path).id", reason)
            } else if !organizationIds.insert(organization.id).inserted {
                problem("\(path).id", "duplicates organization id \"\(organization.id)\"")
            }
            if let reason = Identifier.problem(organization.slug) {
                problem("\(path).slug", reason)
            } else if !organizationSlugs.insert(organization.slug).inserted {
                problem("\(path).slug", "duplicates organization slug \"\(organization.slug)\"")
            }
        }
        func checkOrganization(_ organization: String, _ path: String) {
            if !organizationIds.contains(organization) {
                problem("\(path).organization", "unknown organization \"\(organization)\"")
            }
        }

        // Users.
        var usersById: [String: User] = [:]
        var emails: Set<String> = []
        for (index, user) in users.enumerated() {
            let path = "users[\(index)]"
            if let reason = Identifier.problem(user.id) {
                problem("\(path).id", reason)
            } else if usersById[user.id] != nil {
                problem("\(path).id", "duplicates user id \"\(user.id)\"")
            } else {
                usersById[user.id] = user
            }
            checkOrganization(user.organization, path)
            if let email = user.email {
                if let reason = AddressValidator.emailProblem(email) {
                    problem("\(path).email", reason)
                } else if !emails.insert("\(user.organization)\u{0}\(email.lowercased())").inserted {
                    problem("\(path).email", "duplicates the email of another user of the organization")
                }
            }
            if let phone = user.phone, let reason = AddressValidator.problem(with: phone, on: .sms) {
                problem("\(path).phone", reason)
            }
            if let slackId = user.slackId, let reason = AddressValidator.slackIDProblem(slackId) {
                problem("\(path).slackId", reason)
            }
            if let webhook = user.msteamsWebhook, let reason = AddressValidator.problem(with: webhook, on: .msteams) {
                problem("\(path).msteamsWebhook", reason)
            }
            if let timezone = user.timezone, TimeZone(identifier: timezone) == nil {
                problem("\(path).timezone", "is not a known IANA time zone")
            }
        }

        /// Records `record` under its id, or reports an empty or repeated id.
        func register<Record>(
            _ record: Record,
            id: String,
            kind: String,
            path: String,
            in known: inout [String: Record]
        ) {
            if let reason = Identifier.problem(id) {
                problem("\(path).id", reason)
            } else if known[id] != nil {
                problem("\(path).id", "duplicates \(kind) id \"\(id)\"")
            } else {
                known[id] = record
            }
        }
        /// Reports an empty slug or one another record of the organization already uses.
        func checkSlug(_ slug: String, organization: String, kind: String, path: String, in seen: inout Set<String>) {
            if let reason = Identifier.problem(slug) {
                problem("\(path).slug", reason)
            } else if !seen.insert("\(organization)\u{0}\(slug)").inserted {
                problem("\(path).slug", "duplicates the slug of another \(kind) of the organization")
            }
        }

        // Teams.
        var teamsById: [String: Team] = [:]
        var teamSlugs: Set<String> = []
        for (index, team) in teams.enumerated() {
            let path = "teams[\(index)]"
            register(team, id: team.id, kind: "team", path: path, in: &teamsById)
            checkOrganization(team.organization, path)
            checkSlug(team.slug, organization: team.organization, kind: "team", path: path, in: &teamSlugs)
            var members: Set<String> = []
            for (memberIndex, member) in team.members.enumerated() {
                let memberPath = "\(path).members[\(memberIndex)]"
                if let user = usersById[member] {
                    if user.organization != team.organization, organizationIds.contains(user.organization) {
                        problem(memberPath, "user \"\(member)\" belongs to another organization")
                    }
                } else {
                    problem(memberPath, "unknown user \"\(member)\"")
                }
                if !members.insert(member).inserted { problem(memberPath, "lists user \"\(member)\" twice") }
            }
            if let channel = team.slackChannel, let reason = AddressValidator.problem(with: channel, on: .slack) {
                problem("\(path).slackChannel", reason)
            }
            if let webhook = team.msteamsWebhook, let reason = AddressValidator.problem(with: webhook, on: .msteams) {
                problem("\(path).msteamsWebhook", reason)
            }
        }
        func knownUser(_ id: String) -> User? { usersById[id] }
        func knownTeam(_ id: String) -> Team? { teamsById[id] }

        // Projects.
        var projectsById: [String: Project] = [:]
        var projectSlugs: Set<String> = []
        let teamSlugsByOrganization = Set(teams.map { "\($0.organization)\u{0}\($0.slug)" })
        let emailsByOrganization = Set(
            users.compactMap { user in user.email.map { "\(user.organization)\u{0}\($0.lowercased())" } }
        )
        for (index, project) in projects.enumerated() {
            let path = "projects[\(index)]"
            register(project, id: project.id, kind: "project", path: path, in: &projectsById)
            checkOrganization(project.organization, path)
            checkSlug(project.slug, organization: project.organization, kind: "project", path: path, in: &projectSlugs)
            var projectTeams: Set<String> = []
            for (teamIndex, teamId) in project.teams.enumerated() {
                let teamPath = "\(path).teams[\(teamIndex)]"
                if let team = knownTeam(teamId) {
                    if team.organization != project.organization, organizationIds.contains(team.organization) {
                        problem(teamPath, "team \"\(teamId)\" belongs to another organization")
                    }
                } else {
                    problem(teamPath, "unknown team \"\(teamId)\"")
                }
                if !projectTeams.insert(teamId).inserted { problem(teamPath, "lists team \"\(teamId)\" twice") }
            }
            for (ruleIndex, line) in project.ownership.enumerated() {
                let rulePath = "\(path).ownership[\(ruleIndex)]"
                do {
                    let rule = try OwnershipRule(parsing: line)
                    for owner in rule.owners {
                        switch owner {
                        case .team(let slug):
                            if !teamSlugsByOrganization.contains("\(project.organization)\u{0}\(slug)") {
                                problem(rulePath, "names unknown team #\(slug)")
                            }
                        case .user(let email):
                            if !emailsByOrganization.contains("\(project.organization)\u{0}\(email)") {
                                problem(rulePath, "names unknown user \(email)")
                            }
                        }
                    }
                } catch {
                    problem(rulePath, error.message)
                }
            }
            var routeIds: Set<String> = []
            for (routeIndex, route) in project.routes.enumerated() {
                let routePath = "\(path).routes[\(routeIndex)]"
                if let reason = Identifier.problem(route.id) {
                    problem("\(routePath).id", reason)
                } else if !routeIds.insert(route.id).inserted {
                    problem("\(routePath).id", "duplicates route id \"\(route.id)\"")
                }
                if let reason = AddressValidator.problem(with: route.target, on: route.channel) {
                    problem("\(routePath).target", reason)
                }
                checkNotifier(route.notifier, channel: route.channel, "\(routePath).notifier")
                for (keyIndex, key) in (route.filter.keys ?? []).enumerated() where catalog.entry(for: key) == nil {
                    problem("\(routePath).filter.keys[\(keyIndex)]", "unknown event key \"\(key)\"")
                }
                if let level = route.filter.minLevel, !RouteFilter.levels.contains(level) {
                    problem(
                        "\(routePath).filter.minLevel",
                        "must be one of \(RouteFilter.levels.joined(separator: ", "))"
                    )
                }
            }
            let settings = project.settings
            checkNotifier(settings.emailNotifier, channel: .email, "\(path).settings.emailNotifier")
            checkNotifier(settings.smsNotifier, channel: .sms, "\(path).settings.smsNotifier")
            if !ProjectNotificationSettings.otpCodeLengthRange.contains(settings.otpCodeLength) {
                problem("\(path).settings.otpCodeLength", "must be between 4 and 10")
            }
            if !ProjectNotificationSettings.otpTtlSecondsRange.contains(settings.otpTtlSeconds) {
                problem("\(path).settings.otpTtlSeconds", "must be between 30 and 3600")
            }
        }
        func knownProject(_ id: String) -> Project? { projectsById[id] }

        // Subscriptions.
        var subscriptionKeys: Set<String> = []
        for (index, subscription) in subscriptions.enumerated() {
            let path = "subscriptions[\(index)]"
            checkIdentifier(subscription.issue, "\(path).issue")
            if knownProject(subscription.project) == nil {
                problem("\(path).project", "unknown project \"\(subscription.project)\"")
            }
            switch (subscription.user, subscription.team) {
            case (let user?, nil):
                if knownUser(user) == nil { problem("\(path).user", "unknown user \"\(user)\"") }
            case (nil, let team?):
                if knownTeam(team) == nil { problem("\(path).team", "unknown team \"\(team)\"") }
            default:
                problem(path, "must name exactly one of user and team")
            }
            if let subscriber = subscription.subscriber {
                let key = "\(subscription.project)\u{0}\(subscription.issue)\u{0}\(subscriber.label)"
                if !subscriptionKeys.insert(key).inserted {
                    problem(path, "duplicates the subscription of \(subscriber.label) to this issue")
                }
            }
        }

        // Preferences.
        let knownTypes = PreferenceOptions.knownTypes(in: catalog)
        var preferenceIdentities: Set<PreferenceRowIdentity> = []
        for (index, row) in preferences.enumerated() {
            let path = "preferences[\(index)]"
            switch (row.user, row.team) {
            case (let user?, nil):
                if knownUser(user) == nil { problem("\(path).user", "unknown user \"\(user)\"") }
            case (nil, let team?):
                if knownTeam(team) == nil { problem("\(path).team", "unknown team \"\(team)\"") }
            default:
                problem(path, "must name exactly one of user and team")
            }
            switch row.scope {
            case .user:
                if let owner = row.owner, row.scopeId != owner.id {
                    problem("\(path).scopeId", "must be the owner's own id for user scope")
                }
            case .organization:
                if !organizationIds.contains(row.scopeId) {
                    problem("\(path).scopeId", "unknown organization \"\(row.scopeId)\"")
                }
            case .project:
                if knownProject(row.scopeId) == nil { problem("\(path).scopeId", "unknown project \"\(row.scopeId)\"") }
            }
            let type: NotificationType? =
                catalog.entry(for: row.subject)?.type
                ?? (knownTypes.contains(row.subject) ? NotificationType(row.subject) : nil)
            if let channel = row.channel {
                if !Channel.personal.contains(channel) {
                    problem("\(path).channel", "\(channel.rawValue) is not a personal channel")
                }
                if row.value != .always && row.value != .never {
                    problem("\(path).value", "a channel row must be always or never")
                }
            } else if let type, !row.value.isAllowed(for: type) {
                let allowed = PreferenceValue.allowedValues(for: type).map(\.rawValue).joined(separator: ", ")
                problem("\(path).value", "is not valid for type \(type.rawValue) (expected \(allowed))")
            }
            if type == nil {
                problem("\(path).subject", "unknown notification type or event key \"\(row.subject)\"")
            }
            if !preferenceIdentities.insert(row.identity).inserted {
                problem(path, "duplicates another preference row for the same owner, scope, subject and channel")
            }
        }
        return problems
    }
}
