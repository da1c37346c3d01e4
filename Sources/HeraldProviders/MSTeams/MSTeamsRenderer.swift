import Foundation
import HeraldCore

/// Renders neutral content as a Workflows webhook message carrying one Adaptive Card (SPEC §9,
/// providers.md §3.2). Pure.
struct MSTeamsRenderer: Sendable {
    /// Size limits Herald renders within, in UTF-8 bytes.
    enum Limit {
        /// The whole message. Teams refuses about 28 KB with 413, and some clients fail from about 21 KB,
        /// so Herald budgets 20 KB (providers.md §3.2).
        static let messageBytes = 20_000
        /// The title TextBlock.
        static let titleBytes = 1_000
        /// The summary sentence.
        static let summaryBytes = 4_000
        /// Free text (a comment, a commit message): long text is cut rather than crowding out the rest.
        static let bodyBytes = 8_000
        /// One fact's value.
        static let factBytes = 1_000
        /// Each footer line.
        static let footerBytes = 1_000
    }

    /// The notice appended when trailing card items had to be left out.
    static let omissionNotice = "Some details were left out to fit the Microsoft Teams message size limit."

    /// Renders `content`; `issueScoped` picks the main button's wording.
    func render(_ content: NeutralContent, issueScoped: Bool) throws -> (body: Data, truncations: [String]) {
        var truncations: [String] = []

        func fitted(_ text: String, limit: Int, name: String) -> String {
            let cut = Truncation.truncate(text, limit: limit, unit: .utf8Bytes, transform: MSTeamsMarkdown.escape)
            if cut.wasTruncated { truncations.append("msteams \(name) cut to \(limit) bytes") }
            return cut.text
        }

        var body: [AdaptiveElement] = [
            .textBlock(
                AdaptiveTextBlock(
                    text: fitted(content.title, limit: Limit.titleBytes, name: "title"),
                    weight: "Bolder",
                    size: "Medium",
                    color: Self.titleColor(for: content.key)
                )
            )
        ]
        if let summary = content.summary {
            body.append(
                .textBlock(AdaptiveTextBlock(text: fitted(summary, limit: Limit.summaryBytes, name: "summary")))
            )
        }
        if !content.facts.isEmpty {
            let facts = content.facts.map { fact in
                let value = fitted(fact.value, limit: Limit.factBytes, name: "fact value")
                let label = fitted(fact.label, limit: Limit.factBytes, name: "fact label")
                guard let url = fact.url else { return AdaptiveFact(title: label, value: value) }
                // The value was neutralised already; `link` neutralising it again changes nothing.
                return AdaptiveFact(title: label, value: MSTeamsMarkdown.link(url, label: value))
            }
            body.append(.factSet(facts))
        }
        if let text = content.body {
            body.append(.textBlock(AdaptiveTextBlock(text: fitted(text, limit: Limit.bodyBytes, name: "body"))))
        }
        if !content.footerParts.isEmpty {
            let footer = content.footerParts.joined(separator: " · ")
            body.append(.textBlock(Self.smallPrint(fitted(footer, limit: Limit.footerBytes, name: "footer"))))
        }
        body.append(
            .textBlock(Self.smallPrint(fitted(content.reasonLine, limit: Limit.footerBytes, name: "reason")))
        )

        var actions: [AdaptiveAction] = []
        if let url = content.url {
            actions.append(AdaptiveAction(title: issueScoped ? "Open issue" : "Open", url: url))
        }
        if let settingsURL = content.settingsURL {
            actions.append(AdaptiveAction(title: "Notification settings", url: settingsURL))
        }

        var encoded = try Self.encode(body: body, actions: actions)
        if encoded.count > Limit.messageBytes {
            // Drop trailing items (footer first, the title never), then buttons, until the card fits.
            let notice = AdaptiveElement.textBlock(Self.smallPrint(Self.omissionNotice))
            var droppedItems = 0
            var droppedActions = 0
            while encoded.count > Limit.messageBytes {
                if body.count > 1 {
                    body.removeLast()
                    droppedItems += 1
                } else if !actions.isEmpty {
                    actions.removeLast()
                    droppedActions += 1
                } else {
                    break
                }
                encoded = try Self.encode(body: body + [notice], actions: actions)
            }
            var what = "\(droppedItems) trailing card items"
            if droppedActions > 0 { what += " and \(droppedActions) buttons" }
            truncations.append("msteams card: \(what) left out to fit \(Limit.messageBytes) bytes")
        }
        return (encoded, truncations)
    }

    private static func encode(body: [AdaptiveElement], actions: [AdaptiveAction]) throws -> Data {
        let card = AdaptiveCard(body: body, actions: actions)
        return try PayloadJSON.encode(MSTeamsMessage(attachments: [MSTeamsAttachment(content: card)]))
    }

    private static func smallPrint(_ text: String) -> AdaptiveTextBlock {
        AdaptiveTextBlock(text: text, size: "Small", isSubtle: true)
    }

    /// Alerts stand out in red, resolutions in green; other activity keeps the default colour.
    private static func titleColor(for key: String) -> String? {
        switch key {
        case "escalating", "regression", "issue_alert": "Attention"
        case _ where key.hasPrefix("resolved"): "Good"
        default: nil
        }
    }
}
