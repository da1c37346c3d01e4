import Foundation
import HeraldCore
import Mustache

/// The Mustache templates of custom event keys, one per key and channel (SPEC §3.3):
/// `config/templates/<key>/<channel>.mustache`.
///
/// Templates produce plain text. Values are inserted as they are (no HTML escaping), and each channel then
/// escapes the whole text for its own format, so a template cannot inject markup or headers whatever the
/// event data holds. Loading parses every file up front: a syntax error fails the load (and so the
/// configuration) with the file's path, never a notification. Rendering cannot throw: a text that is empty
/// or too large comes back as `.failed`, and the provider sends a plain fallback instead.
public struct TemplateLibrary: Sendable {
    /// The largest text a template may produce: 64 KiB, far above any message and well below what a
    /// runaway section over a large array could build.
    public static let defaultMaximumOutputBytes = 64 * 1024

    /// The file name extension of templates.
    public static let fileExtension = "mustache"

    private struct Entry: Sendable {
        var template: MustacheTemplate
        var path: String
    }

    private let entries: [String: Entry]
    private let maximumOutputBytes: Int

    /// Loads every `<key>/<channel>.mustache` file under `directory`.
    ///
    /// - Throws: `TemplateLoadError` naming the file when a template does not parse, is not UTF-8, or is
    ///   named after no channel; and naming the directory when it cannot be read.
    public init(directory: URL, maximumOutputBytes: Int = TemplateLibrary.defaultMaximumOutputBytes) throws {
        let files = FileManager.default
        let root = directory.standardizedFileURL
        let keyDirectories: [URL]
        do {
            keyDirectories = try files.contentsOfDirectory(
                at: root,
                includingPropertiesForKeys: [.isDirectoryKey],
                options: [.skipsHiddenFiles]
            )
        } catch {
            throw TemplateLoadError(path: root.path, message: "cannot read the templates directory")
        }
        var sources: [String: (path: String, text: String)] = [:]
        for keyDirectory in keyDirectories.sorted(by: { $0.path < $1.path }) {
            let isDirectory = (try? keyDirectory.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) ?? false
            guard isDirectory else {
                if keyDirectory.pathExtension == Self.fileExtension {
                    throw TemplateLoadError(
                        path: keyDirectory.path,
                        message: "templates belong in <key>/<channel>.\(Self.fileExtension)"
                    )
                }
                continue
            }
            let key = keyDirectory.lastPathComponent
            let templateFiles =
                (try? files.contentsOfDirectory(at: keyDirectory, includingPropertiesForKeys: nil)) ?? []
            for file in templateFiles.sorted(by: { $0.path < $1.path })
            where file.pathExtension == Self.fileExtension {
                let channelName = file.deletingPathExtension().lastPathComponent
                guard let channel = Channel(rawValue: channelName) else {
                    let names = Channel.allCases.map(\.rawValue).joined(separator: ", ")
                    throw TemplateLoadError(
                        path: file.path,
                        message: "\"\(channelName)\" is not a channel (expected one of \(names))"
                    )
                }
                guard let data = files.contents(atPath: file.path) else {
                    throw TemplateLoadError(path: file.path, message: "cannot read the file")
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw TemplateLoadError(path: file.path, message: "is not UTF-8 text")
                }
                sources[Self.name(key: key, channel: channel)] = (file.path, text)
            }
        }
        try self.init(parsing: sources, maximumOutputBytes: maximumOutputBytes)
    }

    /// Builds a library from template texts keyed by `<key>/<channel>` (tests, embedded defaults); the
    /// reported path of each is `<key>/<channel>.mustache`.
    ///
    /// - Throws: `TemplateLoadError` for a name that is not `<key>/<channel>` or a template that does not parse.
    public init(
        templates: [String: String],
        maximumOutputBytes: Int = TemplateLibrary.defaultMaximumOutputBytes
    ) throws {
        var sources: [String: (path: String, text: String)] = [:]
        for (name, text) in templates {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            let path = "\(name).\(Self.fileExtension)"
            guard parts.count == 2, !parts[0].isEmpty, let channel = Channel(rawValue: String(parts[1])) else {
                throw TemplateLoadError(path: path, message: "template names are <key>/<channel>")
            }
            sources[Self.name(key: String(parts[0]), channel: channel)] = (path, text)
        }
        try self.init(parsing: sources, maximumOutputBytes: maximumOutputBytes)
    }

    private init(parsing sources: [String: (path: String, text: String)], maximumOutputBytes: Int) throws {
        var entries: [String: Entry] = [:]
        for (name, source) in sources {
            entries[name] = Entry(template: try Self.parse(source.text, path: source.path), path: source.path)
        }
        self.entries = entries
        self.maximumOutputBytes = max(1, maximumOutputBytes)
    }

    /// How many templates are loaded.
    public var count: Int { entries.count }

    /// Whether a template exists for `key` on `channel`.
    public func hasTemplate(key: String, channel: Channel) -> Bool {
        entries[Self.name(key: key, channel: channel)] != nil
    }

    /// The path a template was loaded from, if it exists.
    public func path(key: String, channel: Channel) -> String? {
        entries[Self.name(key: key, channel: channel)]?.path
    }

    /// Renders the template of `key` on `channel` with the event, recipient and context of `input`.
    ///
    /// Fields the template names but the event lacks render as empty text (Mustache's rule); trailing
    /// whitespace is dropped. See `TemplateContext` for the fields available.
    public func render(key: String, channel: Channel, input: RenderInput) -> TemplateOutcome {
        guard let entry = entries[Self.name(key: key, channel: channel)] else { return .none }
        let text = entry.template.render(TemplateContext.values(for: input))
        let size = text.utf8.count
        if size > maximumOutputBytes {
            return .failed(
                path: entry.path,
                error: "the template produced \(size) bytes, more than the \(maximumOutputBytes) allowed"
            )
        }
        // Template files end with a newline by convention; trailing blank space is never meant to show.
        var cleaned = Self.withoutControlCharacters(text)
        while let last = cleaned.last, last.isWhitespace { cleaned.removeLast() }
        if cleaned.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return .failed(path: entry.path, error: "the template produced no text")
        }
        return .rendered(cleaned)
    }

    // MARK: - Parsing

    /// Templates render as text: this pragma, on a line of its own (which Mustache then drops), turns off the
    /// HTML escaping Mustache applies by default. Each channel escapes the whole output itself.
    private static let textPragma = "{{%CONTENT_TYPE:TEXT}}\n"

    private static func parse(_ text: String, path: String) throws -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: textPragma + text)
        } catch let error as MustacheTemplate.ParserError {
            // One line was added in front of the author's text.
            throw TemplateLoadError(
                path: path,
                line: max(1, error.context.lineNumber - 1),
                message: describe(error.error)
            )
        } catch {
            throw TemplateLoadError(path: path, message: "\(error)")
        }
    }

    /// A readable sentence for the parser's error cases.
    private static func describe(_ error: any Error) -> String {
        let name = String(describing: error)
        let sentences: [String: String] = [
            "sectionCloseNameIncorrect": "a section is closed with a name other than the one it was opened with",
            "unfinishedName": "a tag is not closed (missing }})",
            "expectedSectionEnd": "a section is never closed ({{/name}} missing)",
            "invalidSetDelimiter": "a set-delimiter tag is malformed",
            "transformAppliedToInheritanceSection": "a transform is applied to an inheritance section",
            "illegalTokenInsideInheritSection": "an inheritance section contains a tag it may not hold",
            "textInsideInheritSection": "an inheritance section contains text",
            "invalidConfigVariableSyntax": "a {{% }} pragma is malformed",
            "unrecognisedConfigVariable": "a {{% }} pragma is not recognised",
        ]
        return sentences[name] ?? "syntax error (\(name))"
    }

    private static func name(key: String, channel: Channel) -> String {
        "\(key)/\(channel.rawValue)"
    }

    /// Drops control characters other than newline and tab: they have no place in any channel's text.
    private static func withoutControlCharacters(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        let scalars = normalized.unicodeScalars.filter { scalar in
            scalar == "\n" || scalar == "\t" || !(scalar.value < 0x20 || scalar.value == 0x7F)
        }
        return String(String.UnicodeScalarView(scalars))
    }
}
