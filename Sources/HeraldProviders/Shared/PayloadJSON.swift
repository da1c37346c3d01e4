import Foundation
import HeraldCore

/// The one JSON encoding every provider payload uses: sorted keys, unescaped slashes, RFC 3339 dates.
///
/// Equal values always give equal bytes, which keeps golden files stable and stored payloads comparable.
enum PayloadJSON {
    /// Encodes `value` deterministically.
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return try encoder.encode(value)
    }
}
