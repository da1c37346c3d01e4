extension PagerDutyProvider {
    /// What an event does to a PagerDuty incident (SPEC §7).
    public enum EventAction: String, Sendable, Hashable, CaseIterable {
        /// Opens an alert, or adds to the open one with the same `dedup_key`.
        case trigger
        /// Closes the alert the trigger opened.
        case resolve
    }

    /// The keys that open an incident: an issue getting worse or an alert rule firing.
    static let triggeringKeys: Set<String> = ["escalating", "regression", "issue_alert"]

    /// The action `key` takes on PagerDuty, or nil when the key does not page (the fan-out skips it):
    /// `escalating`, `regression` and `issue_alert` trigger; every `resolved*` key resolves.
    public static func action(for key: String) -> EventAction? {
        if triggeringKeys.contains(key) { return .trigger }
        if key.hasPrefix("resolved") { return .resolve }
        return nil
    }
}
