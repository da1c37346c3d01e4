import Foundation
import HeraldCore

/// Parses a stored enum value.
func parse<Value: RawRepresentable>(
    _ type: Value.Type,
    _ raw: String,
    column: String
) throws -> Value where Value.RawValue == String {
    guard let value = Value(rawValue: raw) else { throw UnrecognisedStoredValue(column: column, value: raw) }
    return value
}

/// The JSON form of `Event` in `events.body`: HeraldCore's `StoredEventBody`, the shape the embedded store keeps
/// (dates as integer milliseconds; the shape `JSONEncoder` gave, which still decodes). Not `JSONEncoder` itself:
/// its `String`-keyed storage merges `data` member names that differ only in Unicode normalization.
enum EventBody {
    struct Encoder {
        func encode(_ event: Event) throws -> Data { StoredEventBody.encode(event) }
    }

    struct Decoder {
        func decode(_ type: Event.Type, from body: Data) throws -> Event { try StoredEventBody.decode(body) }
    }

    static func encoder() -> Encoder { Encoder() }

    static func decoder() -> Decoder { Decoder() }
}

extension AttemptRecord {
    /// One line for `deliveries.last_error`, in the shape of `DeliveryError.summary`
    /// (`rateLimited status=429: ratelimited`).
    var summary: String {
        var text = reason?.rawValue ?? result.rawValue
        if let status { text += " status=\(status)" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }
}
