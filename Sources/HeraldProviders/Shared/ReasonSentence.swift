import HeraldCore

/// The line telling a recipient why they got a message ("You are receiving this because …", SPEC §9).
///
/// Reason values come from participant resolution (SPEC §5.3, §6); both the camelCase spelling and the
/// snake_case spelling of the upstream tracker are understood.
public enum ReasonSentence {
    /// The full sentence for `reason`.
    /// - Parameter issueScoped: whether the event is about an issue (changes the wording of the fallback).
    public static func text(for reason: DeliveryReason, issueScoped: Bool) -> String {
        "You are receiving this because " + clause(for: reason, issueScoped: issueScoped) + "."
    }

    private static func clause(for reason: DeliveryReason, issueScoped: Bool) -> String {
        let normalized = reason.rawValue.replacingUnderscores().lowercased()
        switch normalized {
        case "explicit": return "the sender addressed this notification to you"
        case "route": return "a project route sends these notifications to this destination"
        case "implicit": return "you follow all issues in the projects you are a member of"
        case "assigned": return "you were assigned to this issue"
        case "comment": return "you commented on this issue"
        case "bookmark": return "you bookmarked this issue"
        case "statuschange": return "you changed the status of this issue"
        case "mentioned": return "you were mentioned on this issue"
        case "teammentioned": return "a team you belong to was mentioned on this issue"
        case "committed": return "you authored a commit in this release"
        case "deploysetting": return "you chose to hear about every deploy in this organization"
        case "ownership", "owner", "issueowners": return "you own code or a path this issue touches"
        case "team", "member", "alerttarget": return "an alert rule targets you"
        case "fallthrough": return "you are a recently active member of this project and the issue has no owner"
        default:
            return issueScoped ? "you are subscribed to this issue" : "you are subscribed to these notifications"
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(unicodeScalars.filter { $0 != "_" }.map(Character.init))
    }
}
