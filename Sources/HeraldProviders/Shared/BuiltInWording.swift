import HeraldCore

/// Herald's own wording for the built-in activity types (SPEC §3.2, §9): who did what to which issue,
/// plus the key's data as facts.
struct BuiltInWording {
    private let event: Event

    /// Wording for `event`, or nil when its key is not a built-in key this type knows.
    init?(event: Event) {
        guard BuiltInWording.keys.contains(event.key) else { return nil }
        self.event = event
    }

    /// The built-in keys with their own wording.
    static let keys: Set<String> = [
        "assigned", "unassigned", "resolved", "resolved_in_release", "resolved_in_commit",
        "resolved_in_pull_request", "resolved_by_age", "unresolved", "archived", "regression", "escalating",
        "note", "external_issue_created", "deploy", "issue_alert", "otp_code",
    ]

    /// Fills title, link, summary, body and facts.
    func apply(to content: inout NeutralContent) {
        if let issue = event.issue {
            content.title = issueTitle(issue)
            content.url = NeutralContent.nonEmpty(issue.url)
        }
        switch event.key {
        case "assigned": assigned(&content)
        case "unassigned": content.summary = sentence(active: "unassigned \(issueLabel)", passive: "was unassigned")
        case "resolved": content.summary = sentence(active: "resolved \(issueLabel)", passive: "was resolved")
        case "resolved_in_release": resolvedInRelease(&content)
        case "resolved_in_commit": resolvedInCommit(&content)
        case "resolved_in_pull_request": resolvedInPullRequest(&content)
        case "resolved_by_age": resolvedByAge(&content)
        case "unresolved":
            content.summary = sentence(
                active: "marked \(issueLabel) as unresolved",
                passive: "was marked as unresolved"
            )
        case "archived": archived(&content)
        case "regression": regression(&content)
        case "escalating": escalating(&content)
        case "note": note(&content)
        case "external_issue_created": externalIssueCreated(&content)
        case "deploy": deploy(&content)
        case "issue_alert": issueAlert(&content)
        case "otp_code": oneTimePasscode(&content)
        default: break
        }
    }

    // MARK: - Keys

    private func assigned(_ content: inout NeutralContent) {
        let assignee = event.data["assignee"]
        let name = assigneeName(assignee)
        let isSelf =
            assignee?["id"]?.stringValue != nil && assignee?["id"]?.stringValue == event.actor?.id
            && assignee?["type"]?.stringValue != "team"
        if let actor = actorName {
            content.summary = "\(actor) assigned \(issueLabel) to \(isSelf ? "themselves" : name)"
        } else {
            content.summary = "\(issueLabel) was assigned to \(name)"
        }
        content.facts.append(.init(label: "Assignee", value: name))
    }

    private func resolvedInRelease(_ content: inout NeutralContent) {
        if let version = string("version") {
            content.summary = sentence(
                active: "resolved \(issueLabel) in \(version)",
                passive: "was resolved in \(version)"
            )
            content.facts.append(.init(label: "Release", value: version))
        } else {
            content.summary = sentence(
                active: "marked \(issueLabel) as resolved in the next release",
                passive: "was marked as resolved in the next release"
            )
        }
    }

    private func resolvedInCommit(_ content: inout NeutralContent) {
        let commit = event.data["commit"]
        let id = commit?["id"]?.displayText
        let shortId = id.map { String($0.prefix(12)) }
        let label = shortId.map { "commit \($0)" } ?? "a commit"
        content.summary = sentence(active: "resolved \(issueLabel) in \(label)", passive: "was resolved in \(label)")
        if let shortId {
            content.facts.append(.init(label: "Commit", value: shortId, url: commit?["url"]?.stringValue))
        }
        if let author = commit?["authorEmail"]?.displayText {
            content.facts.append(.init(label: "Author", value: author))
        }
        content.body = commit?["message"]?.stringValue.flatMap(NeutralContent.nonEmpty)
    }

    private func resolvedInPullRequest(_ content: inout NeutralContent) {
        let pullRequest = event.data["pullRequest"]
        let id = pullRequest?["id"]?.displayText
        let number = id.map { $0.allSatisfy(\.isNumber) ? "#\($0)" : $0 }
        let label = number.map { "pull request \($0)" } ?? "a pull request"
        content.summary = sentence(active: "resolved \(issueLabel) in \(label)", passive: "was resolved in \(label)")
        if let value = pullRequest?["title"]?.displayText ?? number {
            content.facts.append(.init(label: "Pull request", value: value, url: pullRequest?["url"]?.stringValue))
        }
    }

    private func resolvedByAge(_ content: inout NeutralContent) {
        // Resolution by age is automatic: the actor, if any, is not the one who resolved it.
        if let days = event.data["ageDays"]?.displayText {
            content.summary = "\(issueLabel) was resolved automatically after \(days) days without new events"
            content.facts.append(.init(label: "Inactive for", value: "\(days) days"))
        } else {
            content.summary = "\(issueLabel) was resolved automatically after a period without new events"
        }
    }

    private func archived(_ content: inout NeutralContent) {
        if let until = event.data["until"]?.displayText {
            content.summary = sentence(
                active: "archived \(issueLabel) until \(until)",
                passive: "was archived until \(until)"
            )
            content.facts.append(.init(label: "Archived until", value: until))
        } else {
            content.summary = sentence(active: "archived \(issueLabel)", passive: "was archived")
        }
    }

    private func regression(_ content: inout NeutralContent) {
        if let version = string("version") {
            content.summary = "\(issueLabel) regressed in \(version) after being resolved"
            content.facts.append(.init(label: "Release", value: version))
        } else {
            content.summary = "\(issueLabel) regressed after being resolved"
        }
        if let eventId = event.data["eventId"]?.displayText {
            content.facts.append(.init(label: "Event", value: eventId))
        }
    }

    private func escalating(_ content: inout NeutralContent) {
        if let forecast = event.data["forecast"]?.displayText {
            content.summary = "\(issueLabel) is escalating: more events than its forecast of \(forecast)"
            content.facts.append(.init(label: "Forecast", value: forecast))
        } else {
            content.summary = "\(issueLabel) is escalating"
        }
        if let snooze = event.data["expiredSnooze"], snooze.isTruthy {
            let value = snooze.boolValue == true ? "expired" : "expired (\(snooze.displayText ?? ""))"
            content.facts.append(.init(label: "Snooze", value: value))
        }
    }

    private func note(_ content: inout NeutralContent) {
        if let actor = actorName {
            content.summary = "\(actor) commented on \(issueLabel)"
        } else {
            content.summary = "New comment on \(issueLabel)"
        }
        content.body = string("text")
    }

    private func externalIssueCreated(_ content: inout NeutralContent) {
        let provider = string("provider") ?? "an external tracker"
        let label = string("label") ?? "an issue"
        let external = "\(provider) issue \(label)"
        if event.data["new"]?.boolValue == false {
            content.summary = sentence(
                active: "linked \(issueLabel) to \(external)",
                passive: "was linked to \(external)"
            )
        } else if let actor = actorName {
            content.summary = "\(actor) created \(external) for \(issueLabel)"
        } else {
            content.summary = "\(external) was created for \(issueLabel)"
        }
        content.facts.append(.init(label: provider, value: label, url: string("location")))
    }

    private func deploy(_ content: inout NeutralContent) {
        let version = string("version") ?? "a new release"
        let environment = string("environment")
        let target = environment.map { " to \($0)" } ?? ""
        content.title = "Release \(version) deployed\(target)"
        if let actor = actorName {
            content.summary = "\(actor) deployed \(version)\(target)"
        } else {
            content.summary = "Release \(version) was deployed\(target)"
        }
        content.url = string("url")
        content.facts.append(.init(label: "Release", value: version))
        if let environment { content.facts.append(.init(label: "Environment", value: environment)) }
        if let projects = event.data["projects"]?.displayText {
            content.facts.append(.init(label: "Projects", value: projects))
        }
        if let commits = event.data["commits"]?.arrayValue, !commits.isEmpty {
            content.facts.append(.init(label: "Commits", value: String(commits.count)))
        }
        if let deployId = event.data["deployId"]?.displayText {
            content.facts.append(.init(label: "Deploy", value: deployId))
        }
    }

    private func issueAlert(_ content: inout NeutralContent) {
        let rule = event.data["rule"]
        let ruleName = rule?["name"]?.displayText ?? rule?["id"]?.displayText ?? "an alert rule"
        content.summary = "Alert rule “\(ruleName)” fired for \(issueLabel)"
        content.facts.append(.init(label: "Rule", value: ruleName, url: string("url")))
        if let level = NeutralContent.nonEmpty(event.issue?.level) {
            content.facts.append(.init(label: "Level", value: level))
        }
        if let culprit = NeutralContent.nonEmpty(event.issue?.culprit) {
            content.facts.append(.init(label: "Culprit", value: culprit))
        }
        if let tags = event.data["tags"]?.displayText {
            content.facts.append(.init(label: "Tags", value: tags))
        }
    }

    /// SPEC §11.6: the code, how long it lives, and that it must never be shared. No link, no settings link
    /// (the key is critical: preferences cannot mute it).
    private func oneTimePasscode(_ content: inout NeutralContent) {
        let code = string("code") ?? "?"
        let issuer = content.projectName ?? event.organization
        let lifetime = Self.lifetime(seconds: event.data["ttlSeconds"]?.numberValue ?? 0)
        content.title = "Your \(issuer) verification code"
        content.summary = "\(code) is your \(issuer) verification code. It expires in \(lifetime). Never share it."
        content.body =
            "Enter \(code) to confirm it is you. It expires in \(lifetime) and works once. Never share this code: "
            + "no one from \(issuer) will ever ask you for it. If you did not ask for a code, ignore this message."
        content.facts = [.init(label: "Code", value: code), .init(label: "Expires in", value: lifetime)]
        content.url = nil
        content.settingsURL = nil
        content.unsubscribeURL = nil
        content.reasonLine = "You are receiving this because a verification code was requested for this address."
    }

    /// `2 minutes`, `90 seconds`, `1 hour`.
    static func lifetime(seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        func plural(_ count: Int, _ unit: String) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }
        if whole >= 3600, whole % 3600 == 0 { return plural(whole / 3600, "hour") }
        if whole >= 60, whole % 60 == 0 { return plural(whole / 60, "minute") }
        return plural(whole, "second")
    }

    // MARK: - Pieces

    /// The acting user's name, or nil for system activity.
    private var actorName: String? {
        guard let actor = event.actor else { return nil }
        return NeutralContent.nonEmpty(actor.name) ?? actor.id
    }

    /// How the issue is named in sentences: its short id, else its title, else its id.
    private var issueLabel: String {
        guard let issue = event.issue else { return "the issue" }
        return NeutralContent.nonEmpty(issue.shortId) ?? NeutralContent.nonEmpty(issue.title) ?? "issue \(issue.id)"
    }

    /// `BACKEND-1A - TypeError: x is undefined`, or whichever part is known.
    private func issueTitle(_ issue: IssueReference) -> String {
        let parts = [NeutralContent.nonEmpty(issue.shortId), NeutralContent.nonEmpty(issue.title)].compactMap { $0 }
        return parts.isEmpty ? "Issue \(issue.id)" : parts.joined(separator: " - ")
    }

    /// "Jane Doe <active>" when there is an actor, else "<issue> <passive>".
    private func sentence(active: String, passive: String) -> String {
        if let actor = actorName { return "\(actor) \(active)" }
        return "\(issueLabel) \(passive)"
    }

    private func assigneeName(_ assignee: JSONValue?) -> String {
        let name =
            assignee?["name"]?.displayText ?? assignee?["email"]?.displayText ?? assignee?["id"]?.displayText
            ?? "someone"
        return assignee?["type"]?.stringValue == "team" ? "team \(name)" : name
    }

    private func string(_ key: String) -> String? {
        event.data[key]?.displayText
    }
}
