import Foundation
import HeraldCore
import Testing

/// Golden files under `Golden/`: compared byte for byte; `HERALD_UPDATE_GOLDEN=1` rewrites them in the
/// source tree instead.
enum GoldenFiles {
    static var isUpdating: Bool {
        ProcessInfo.processInfo.environment["HERALD_UPDATE_GOLDEN"] == "1"
    }

    /// The golden directory in the source tree (written in update mode).
    static let sourceDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("Golden")

    /// A rendered JSON body in its golden form: canonical (sorted keys), pretty-printed, newline-terminated.
    static func goldenForm(ofJSON body: Data) throws -> Data {
        let value = try JSONValue.parse(body)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value) + Data("\n".utf8)
    }

    /// Compares `actual` with the golden file `name` (a relative path), or writes it in update mode.
    static func check(_ actual: Data, name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if isUpdating {
            let url = sourceDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try actual.write(to: url)
            return
        }
        let bundled = try #require(
            Bundle.module.url(forResource: "Golden", withExtension: nil),
            "the Golden resource directory is missing from the test bundle",
            sourceLocation: sourceLocation
        )
        let url = bundled.appendingPathComponent(name)
        guard let expected = try? Data(contentsOf: url) else {
            Issue.record("missing golden file \(name); run with HERALD_UPDATE_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        #expect(
            actual == expected,
            "\(name) differs from its golden file; review and run with HERALD_UPDATE_GOLDEN=1:\n\(String(decoding: actual, as: UTF8.self))",
            sourceLocation: sourceLocation
        )
    }
}
