import HeraldCore

extension NeutralContent {
    /// Applies the template of a custom key on `channel`, if there is one (SPEC §3.3), and returns the
    /// warnings to report with the rendered message.
    ///
    /// Built-in keys keep Herald's wording. A custom key's template text becomes the message body (the
    /// title and link stay those of the neutral rendering, so every channel keeps its structure). When the
    /// template fails, the body becomes a plain fallback naming the key and the error, the event's
    /// `data.text` is kept, and one `TemplateOutcome.warning` names the template's path.
    public mutating func applyTemplate(
        _ templates: TemplateLibrary?,
        channel: Channel,
        input: RenderInput
    ) -> [String] {
        guard let templates, !input.entry.builtIn else { return [] }
        switch templates.render(key: input.event.key, channel: channel, input: input) {
        case .none:
            return []
        case .rendered(let text):
            summary = nil
            body = text
            facts = []
            return []
        case .failed(let path, let error):
            facts = [
                Fact(label: "Event", value: key),
                Fact(label: "Template error", value: error),
            ]
            return [TemplateOutcome.warning(path: path, error: error)]
        }
    }
}
