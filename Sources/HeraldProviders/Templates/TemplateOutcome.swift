import HeraldCore

/// What rendering a custom key's template produced (SPEC §3.3).
public enum TemplateOutcome: Sendable, Hashable {
    /// No template exists for the key and channel: render neutrally.
    case none
    /// The template's text, ready for the channel to escape and frame.
    case rendered(String)
    /// The template exists but could not produce a usable text: render the plain fallback and warn.
    case failed(path: String, error: String)

    /// The warning a provider adds to `RenderedMessage.truncations` for a failed template, so that the fan-out
    /// logs it with the template's path: `template failed: <path>: <error> (plain fallback rendered)`.
    public static func warning(path: String, error: String) -> String {
        "\(TemplateOutcome.warningPrefix)\(path): \(error) (plain fallback rendered)"
    }

    /// How every template warning starts, so logs and metrics can tell them from length cuts.
    public static let warningPrefix = RenderedMessage.templateFailurePrefix
}
