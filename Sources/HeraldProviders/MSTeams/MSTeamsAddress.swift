/// What a Teams recipient address designates (providers.md §3.1).
enum MSTeamsAddress {
    /// Whether `url` is a retired Office 365 connector ("Incoming Webhook") URL rather than a Workflows
    /// trigger URL: a host under `webhook.office.com`, or `outlook.office.com` / `outlook.office365.com`
    /// with a path under `/webhook`.
    static func isLegacyConnector(_ url: String) -> Bool {
        guard let (host, path) = hostAndPath(of: url) else { return false }
        if host == "webhook.office.com" || host.hasSuffix(".webhook.office.com") { return true }
        if host == "outlook.office.com" || host == "outlook.office365.com" {
            return path.hasPrefix("/webhook")
        }
        return false
    }

    /// The lower-cased host (without userinfo or port) and the path of an absolute URL.
    private static func hostAndPath(of url: String) -> (host: String, path: String)? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        let hostAndPort = authority.split(separator: "@").last.map(String.init) ?? ""
        let host = hostAndPort.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        let afterAuthority = rest.dropFirst(authority.count)
        let path = afterAuthority.prefix(while: { $0 != "?" && $0 != "#" })
        return (host.lowercased(), path.lowercased())
    }
}
