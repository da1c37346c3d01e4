import HeraldCore

/// Renders neutral content as a Slack Block Kit message (SPEC §9, providers.md §1.3–§1.5). Pure.
struct SlackRenderer: Sendable {
    /// Block Kit limits Herald renders within (providers.md §1.3).
    enum Limit {
        /// Blocks per message.
        static let blocks = 50
        /// `header` text (plain_text).
        static let headerText = 150
        /// `section` text.
        static let sectionText = 3000
        /// One `context` element's text (Slack applies the section limit to text objects).
        static let contextText = 3000
        /// Top-level `text`: Slack truncates at 40,000 and may split above about 4,000; stay well below.
        static let fallbackText = 3000
    }

    /// Renders `content` for `address`: a channel or user id (Web API) or an incoming-webhook URL.
    func render(_ content: NeutralContent, address: String) -> (message: SlackMessage, truncations: [String]) {
        var truncations: [String] = []
        var blocks: [SlackBlock] = []

        // The title: a linked section when there is a link (headers cannot link), else a header.
        let title = Truncation.truncate(content.title, limit: Limit.headerText)
        if title.wasTruncated { truncations.append("slack title cut to \(Limit.headerText) characters") }
        if let url = content.url, SlackMrkdwn.link(url, label: title.text).unicodeScalars.count + 2 <= Limit.sectionText
        {
            blocks.append(.section(.mrkdwn("*" + SlackMrkdwn.link(url, label: title.text) + "*")))
        } else {
            blocks.append(.header(.plain(title.text)))
        }

        // What happened, then the key's data as labelled lines.
        var description = SlackMrkdwn()
        if let summary = content.summary { description.append(data: summary) }
        for (index, fact) in content.facts.enumerated() {
            if index > 0 || content.summary != nil { description.append(markup: "\n") }
            description.append(markup: "*")
            description.append(data: fact.label)
            description.append(markup: ":* ")
            if let url = fact.url {
                description.append(link: url, label: fact.value)
            } else {
                description.append(data: fact.value)
            }
        }
        appendSection(description, name: "description", to: &blocks, truncations: &truncations)

        // Free text (a comment, a commit message) in its own section, so a long one cannot push out the facts.
        if let body = content.body {
            var text = SlackMrkdwn()
            text.append(data: body)
            appendSection(text, name: "body", to: &blocks, truncations: &truncations)
        }

        // Footer: project · environment · settings link, then why the recipient gets it.
        var footer = SlackMrkdwn()
        for (index, part) in content.footerParts.enumerated() {
            if index > 0 { footer.append(markup: " · ") }
            footer.append(data: part)
        }
        if let settingsURL = content.settingsURL {
            if !footer.isEmpty { footer.append(markup: " · ") }
            footer.append(link: settingsURL, label: "Notification settings")
        }
        var reason = SlackMrkdwn()
        reason.append(data: content.reasonLine)
        let elements = [footer, reason].filter { !$0.isEmpty }.map { element in
            let text = element.rendered(limit: Limit.contextText)
            if text.wasTruncated { truncations.append("slack footer cut to \(Limit.contextText) characters") }
            return SlackTextObject.mrkdwn(text.text)
        }
        if !elements.isEmpty { blocks.append(.context(elements)) }

        if blocks.count > Limit.blocks {
            truncations.append("slack blocks cut from \(blocks.count) to \(Limit.blocks)")
            blocks = Array(blocks.prefix(Limit.blocks))
        }

        let message = SlackMessage(
            channel: SlackAddress.isWebhook(address) ? nil : address,
            text: fallbackText(content, truncations: &truncations),
            blocks: blocks,
            unfurlLinks: false
        )
        return (message, truncations)
    }

    /// The top-level `text`: what notifications and screen readers show.
    private func fallbackText(_ content: NeutralContent, truncations: inout [String]) -> String {
        var text = SlackMrkdwn()
        if let summary = content.summary {
            // The sentence already names the issue; the title is in the first block.
            text.append(data: summary)
        } else {
            text.append(data: content.title)
            if let body = content.body {
                text.append(markup: ": ")
                text.append(data: body)
            }
        }
        let rendered = text.rendered(limit: Limit.fallbackText)
        if rendered.wasTruncated { truncations.append("slack text cut to \(Limit.fallbackText) characters") }
        return rendered.text
    }

    private func appendSection(
        _ text: SlackMrkdwn,
        name: String,
        to blocks: inout [SlackBlock],
        truncations: inout [String]
    ) {
        guard !text.isEmpty else { return }
        let rendered = text.rendered(limit: Limit.sectionText)
        if rendered.wasTruncated { truncations.append("slack \(name) cut to \(Limit.sectionText) characters") }
        blocks.append(.section(.mrkdwn(rendered.text)))
    }
}

/// What a Slack recipient address designates.
enum SlackAddress {
    /// Whether `address` is an incoming-webhook URL rather than a channel or user id. Slack ids never
    /// start with a scheme; plain `http://` is accepted so tests can point hooks at a local server.
    static func isWebhook(_ address: String) -> Bool {
        let lower = address.lowercased()
        return lower.hasPrefix("https://") || lower.hasPrefix("http://")
    }
}
