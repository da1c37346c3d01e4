import Foundation
import HeraldCore
import HeraldProviders

/// Builds one provider per configured notifier, with its secrets.
public enum ProviderFactory {
    /// Every notifier of the configuration, as providers; refuses channels this build cannot deliver to.
    public static func makeProviders(_ loaded: LoadedConfiguration) throws(ConfigurationError) -> ProviderSet {
        var providers: [any Provider] = []
        var problems: [FieldError] = []
        var templates: TemplateLibrary?
        if let directory = loaded.configuration.templatesDirectory {
            do {
                templates = try TemplateLibrary(directory: directory)
            } catch {
                throw ConfigurationError(problems: [FieldError(field: "templates", message: "\(error)")])
            }
        }
        let leftOut = Set(loaded.notConfigured.map(\.id))
        for (index, section) in loaded.configuration.notifiers.enumerated() {
            let path = "notifiers[\(index)]"
            guard let channel = Channel(rawValue: section.channel), !leftOut.contains(section.id) else { continue }
            let info = NotifierInfo(
                id: section.id,
                name: section.name,
                channel: channel,
                rateLimit: section.rateLimit.map {
                    RateLimit(perSecond: $0.perSecond, burst: $0.burst ?? max(1, Int($0.perSecond.rounded(.up))))
                },
                retryLimits: section.retry.map { retry in
                    let defaults = RetryLimits.defaults(for: channel)
                    return RetryLimits(
                        maxAttempts: retry.maxAttempts ?? defaults.maxAttempts,
                        maxAge: retry.maxAge.flatMap(DurationText.seconds) ?? defaults.maxAge
                    )
                }
            )
            switch channel {
            case .slack:
                let apiURL = section.slack?.apiURL ?? "https://slack.com/api"
                providers.append(
                    SlackProvider(
                        notifier: info,
                        connection: SlackConnection(apiURL: apiURL, token: loaded.secret("\(path).slack.token")),
                        templates: templates
                    )
                )
            case .webhook:
                providers.append(
                    WebhookProvider(
                        notifier: info,
                        connection: WebhookConnection(signingSecret: loaded.secret("\(path).webhook.signingSecret")),
                        templates: templates
                    )
                )
            case .email:
                guard let email = section.email else { continue }
                let connection = EmailConnection(
                    url: email.url,
                    username: email.username,
                    password: loaded.secret("\(path).email.password"),
                    from: email.from,
                    allowInsecure: email.allowInsecure ?? false
                )
                if let problem = connection.problem {
                    // `problem` reads "field: reason".
                    let parts = problem.split(separator: ":", maxSplits: 1).map(String.init)
                    let field = parts.count == 2 ? "\(path).email.\(parts[0])" : "\(path).email"
                    let message = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : problem
                    problems.append(FieldError(field: field, message: message))
                    continue
                }
                providers.append(EmailProvider(notifier: info, connection: connection, templates: templates))
            case .msteams:
                providers.append(
                    MSTeamsProvider(
                        notifier: info,
                        connection: MSTeamsConnection(
                            allowLegacyConnectors: section.msteams?.allowLegacyConnectors ?? false
                        ),
                        templates: templates
                    )
                )
            case .pagerduty:
                providers.append(
                    PagerDutyProvider(
                        notifier: info,
                        connection: PagerDutyConnection(
                            eventsURL: section.pagerduty?.eventsURL ?? PagerDutyConnection.defaultEventsURL
                        )
                    )
                )
            case .sms:
                guard let sms = section.sms, let token = loaded.secret("\(path).sms.authToken") else { continue }
                providers.append(
                    SMSProvider(
                        notifier: info,
                        connection: SMSConnection(
                            apiURL: sms.apiURL ?? SMSConnection.defaultAPIURL,
                            accountSid: sms.accountSid,
                            authToken: token,
                            from: sms.from,
                            messagingServiceSid: sms.messagingServiceSid,
                            segmentBudget: sms.segmentBudget ?? 1
                        ),
                        templates: templates
                    )
                )
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        var defaults: [Channel: Int] = [:]
        for (name, id) in loaded.configuration.defaults {
            if let channel = Channel(rawValue: name) { defaults[channel] = id }
        }
        return ProviderSet(providers: providers, defaults: defaults)
    }
}
