/// The body a Teams Workflows webhook expects: a `message` whose attachments are Adaptive Cards
/// (providers.md §3.2). The "Post to a channel when a webhook request is received" flow iterates over
/// `attachments` and posts each card.
struct MSTeamsMessage: Encodable, Sendable, Hashable {
    var attachments: [MSTeamsAttachment]

    private enum CodingKeys: String, CodingKey {
        case type
        case attachments
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("message", forKey: .type)
        try container.encode(attachments, forKey: .attachments)
    }
}

/// One attachment carrying an Adaptive Card inline.
struct MSTeamsAttachment: Encodable, Sendable, Hashable {
    /// The MIME type Workflows and Teams recognise as an Adaptive Card.
    static let adaptiveCardContentType = "application/vnd.microsoft.card.adaptive"

    var content: AdaptiveCard

    private enum CodingKeys: String, CodingKey {
        case contentType
        case contentUrl
        case content
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.adaptiveCardContentType, forKey: .contentType)
        // The Workflows template reads `contentUrl`; an explicit null matches what it is built for.
        try container.encodeNil(forKey: .contentUrl)
        try container.encode(content, forKey: .content)
    }
}

/// An Adaptive Card (schema 1.4: Workflows webhooks reject later versions in practice, providers.md §3.2).
struct AdaptiveCard: Encodable, Sendable, Hashable {
    /// The schema version Herald renders.
    static let version = "1.4"
    /// The schema URL cards declare.
    static let schema = "http://adaptivecards.io/schemas/adaptive-card.json"

    var body: [AdaptiveElement]
    var actions: [AdaptiveAction]

    private enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case type
        case version
        case body
        case actions
        case msteams
    }

    private struct TeamsOptions: Encodable {
        /// Full width: the default narrow card wraps facts and links badly.
        var width = "Full"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.schema, forKey: .schema)
        try container.encode("AdaptiveCard", forKey: .type)
        try container.encode(Self.version, forKey: .version)
        try container.encode(body, forKey: .body)
        if !actions.isEmpty { try container.encode(actions, forKey: .actions) }
        try container.encode(TeamsOptions(), forKey: .msteams)
    }
}

/// The card elements Herald uses.
enum AdaptiveElement: Encodable, Sendable, Hashable {
    case textBlock(AdaptiveTextBlock)
    /// Labelled values; titles and values accept the same Markdown subset as TextBlocks.
    case factSet([AdaptiveFact])

    private enum CodingKeys: String, CodingKey {
        case type
        case facts
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .textBlock(let block):
            try block.encode(to: encoder)
        case .factSet(let facts):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("FactSet", forKey: .type)
            try container.encode(facts, forKey: .facts)
        }
    }
}

/// A paragraph of text in the card's small Markdown subset.
struct AdaptiveTextBlock: Encodable, Sendable, Hashable {
    /// Markdown text; data in it must already be neutralised (`MSTeamsMarkdown`).
    var text: String
    /// `Bolder` for the title.
    var weight: String?
    /// `Medium` for the title, `Small` for the footer.
    var size: String?
    /// `Attention` or `Good` for titles of alerts and resolutions.
    var color: String?
    /// Dimmed text (footer, notices).
    var isSubtle: Bool?

    private enum CodingKeys: String, CodingKey {
        case type
        case text
        case weight
        case size
        case color
        case isSubtle
        case wrap
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("TextBlock", forKey: .type)
        try container.encode(text, forKey: .text)
        try container.encodeIfPresent(weight, forKey: .weight)
        try container.encodeIfPresent(size, forKey: .size)
        try container.encodeIfPresent(color, forKey: .color)
        try container.encodeIfPresent(isSubtle, forKey: .isSubtle)
        // Without wrap, Teams shows one line and cuts the rest off.
        try container.encode(true, forKey: .wrap)
    }
}

/// One row of a FactSet.
struct AdaptiveFact: Encodable, Sendable, Hashable {
    var title: String
    var value: String
}

/// A button opening a link (`Action.OpenUrl`: `Action.Submit` and `Action.Execute` need a bot).
struct AdaptiveAction: Encodable, Sendable, Hashable {
    var title: String
    var url: String

    private enum CodingKeys: String, CodingKey {
        case type
        case title
        case url
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("Action.OpenUrl", forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(url, forKey: .url)
    }
}
