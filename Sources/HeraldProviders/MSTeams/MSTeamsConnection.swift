/// How a Microsoft Teams notifier posts (SPEC §14 `notifiers[].msteams`).
///
/// Teams targets are Workflows webhook URLs carried by routes and explicit recipients; the notifier itself
/// holds no credential.
public struct MSTeamsConnection: Sendable, Hashable {
    /// Whether retired Office 365 connector URLs (`*.webhook.office.com`, `outlook.office.com/webhook…`) may
    /// still be posted to. Off by default: Microsoft is shutting connectors down (providers.md §3.1).
    public var allowLegacyConnectors: Bool

    /// Creates a connection; legacy connectors are refused unless `allowLegacyConnectors` is true.
    public init(allowLegacyConnectors: Bool = false) {
        self.allowLegacyConnectors = allowLegacyConnectors
    }
}
