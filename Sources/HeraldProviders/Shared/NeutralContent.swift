import Foundation
import HeraldCore

/// The channel-neutral content of one message: what every renderer says, before it picks a format.
///
/// Computed from a `RenderInput` alone (pure). Built-in keys get Herald's own sentence about who did what
/// to which issue plus the key's data as facts; custom keys without templates use `data.title` (else the
/// catalog description), `data.text` and `data.url` (SPEC §3.3). Text here is raw: each renderer escapes
/// it for its own format.
public struct NeutralContent: Sendable, Hashable {
    /// One labelled piece of the key's data, optionally linked ("Commit: abc1234" → the commit page).
    public struct Fact: Sendable, Hashable {
        /// A short label, e.g. `Assignee`.
        public var label: String
        /// The value as text.
        public var value: String
        /// Where the value links to, when it has a page.
        public var url: String?

        /// Creates a fact.
        public init(label: String, value: String, url: String? = nil) {
            self.label = label
            self.value = value
            self.url = url
        }
    }

    /// The event key.
    public var key: String
    /// The message title: `BACKEND-1A - TypeError: x is undefined` for issues, a short line otherwise.
    public var title: String
    /// The main link (the issue, or `data.url`), when there is one.
    public var url: String?
    /// One sentence saying what happened ("Jane Doe assigned BACKEND-1A to Ann Lee"); nil for custom keys.
    public var summary: String?
    /// Longer free text: a comment, a commit message, a custom event's `data.text`.
    public var body: String?
    /// The key's data, labelled.
    public var facts: [Fact]
    /// The project's display name (or slug), when the event has a project.
    public var projectName: String?
    /// The environment (issue or deploy), when known.
    public var environment: String?
    /// The recipient's notification settings link.
    public var settingsURL: String?
    /// The recipient's one-click unsubscribe link (email's `List-Unsubscribe`).
    public var unsubscribeURL: String?
    /// Why the recipient gets the message.
    public var reasonLine: String

    /// Creates content from explicit parts (renderer tests, custom templates' fallback).
    public init(
        key: String,
        title: String,
        url: String? = nil,
        summary: String? = nil,
        body: String? = nil,
        facts: [Fact] = [],
        projectName: String? = nil,
        environment: String? = nil,
        settingsURL: String? = nil,
        reasonLine: String
    ) {
        self.key = key
        self.title = title
        self.url = url
        self.summary = summary
        self.body = body
        self.facts = facts
        self.projectName = projectName
        self.environment = environment
        self.settingsURL = settingsURL
        self.reasonLine = reasonLine
    }

    /// Computes the neutral content of one recipient's message.
    public init(_ input: RenderInput) {
        let event = input.event
        let issueScoped = event.issue != nil
        self.init(
            key: event.key,
            title: input.entry.description,
            projectName: NeutralContent.nonEmpty(input.context.projectName) ?? NeutralContent.nonEmpty(event.project),
            environment: NeutralContent.nonEmpty(event.issue?.environment)
                ?? event.data["environment"]?.displayText,
            settingsURL: NeutralContent.nonEmpty(input.context.settingsURL),
            reasonLine: ReasonSentence.text(for: input.reason, issueScoped: issueScoped)
        )
        unsubscribeURL = NeutralContent.nonEmpty(input.context.unsubscribeURL)
        if input.entry.builtIn, let wording = BuiltInWording(event: event) {
            wording.apply(to: &self)
        } else {
            applyCustom(event: event)
        }
    }

    /// The description as plain text: the summary, the body, then one `Label: value` line per fact.
    public var plainDescription: String {
        var paragraphs: [String] = []
        if let summary { paragraphs.append(summary) }
        if let body { paragraphs.append(body) }
        if !facts.isEmpty {
            paragraphs.append(facts.map { "\($0.label): \($0.value)" }.joined(separator: "\n"))
        }
        return paragraphs.joined(separator: "\n\n")
    }

    /// The footer facts in display order: project, environment.
    public var footerParts: [String] {
        [projectName, environment].compactMap { $0 }
    }

    /// Untemplated custom keys: `data.title` (else the catalog description), `data.text`, `data.url`.
    private mutating func applyCustom(event: Event) {
        if let title = event.data["title"]?.stringValue.flatMap(NeutralContent.nonEmpty) { self.title = title }
        body = event.data["text"]?.stringValue.flatMap(NeutralContent.nonEmpty)
        url = event.data["url"]?.stringValue.flatMap(NeutralContent.nonEmpty)
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return text
    }
}
