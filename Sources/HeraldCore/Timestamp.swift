import Foundation

/// RFC 3339 timestamps as used throughout Herald's JSON.
public enum Timestamp {
    /// Parses `2026-11-23T10:00:00Z`, with optional fractional seconds and numeric offsets.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: false).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return nil
    }

    /// Formats as `2026-11-23T10:00:00.123Z` (UTC, milliseconds).
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
