extension DeliveryReason {
    /// Subscribed because assigned (also: the assignee of an alerted issue).
    public static let assigned = DeliveryReason("assigned")
    /// Subscribed because they commented.
    public static let comment = DeliveryReason("comment")
    /// Subscribed because they bookmarked the issue.
    public static let bookmark = DeliveryReason("bookmark")
    /// Subscribed because they changed the status.
    public static let statusChange = DeliveryReason("statusChange")
    /// Subscribed because they were mentioned.
    public static let mentioned = DeliveryReason("mentioned")
    /// Subscribed because a team of theirs was mentioned.
    public static let teamMentioned = DeliveryReason("teamMentioned")
    /// A deploy carries one of their commits.
    public static let committed = DeliveryReason("committed")
    /// They opted into every deploy.
    public static let deploySetting = DeliveryReason("deploySetting")
    /// The alert rule targets them (a member or team target).
    public static let alertTarget = DeliveryReason("alertTarget")
    /// The project's ownership rules make them an owner of the alerted issue.
    public static let ownership = DeliveryReason("ownership")
    /// Nobody owned the alert; they are among the project's most recently active members.
    public static let activeMembers = DeliveryReason("activeMembers")
    /// Nobody owned the alert; the project notifies all its members.
    public static let allMembers = DeliveryReason("allMembers")
}
