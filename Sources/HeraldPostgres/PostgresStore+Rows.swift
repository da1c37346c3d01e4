import Foundation
import HeraldCore

/// A stored value the code does not recognise (an unknown channel or state): the row was written by a newer
/// Herald or edited by hand.
struct UnrecognisedStoredValue: Error, CustomStringConvertible {
    var column: String
    var value: String

    var description: String { "unrecognised stored \(column) \"\(value)\"" }
}

/// Parses a stored enum value.
func parse<Value: RawRepresentable>(
    _ type: Value.Type,
    _ raw: String,
    column: String
) throws -> Value where Value.RawValue == String {
    guard let value = Value(rawValue: raw) else { throw UnrecognisedStoredValue(column: column, value: raw) }
    return value
}

/// The JSON form of `Event` in `events.body`: dates as integer milliseconds, exact to the millisecond (the
/// same shape the embedded store keeps).
enum EventBody {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            Date(timeIntervalSince1970: Double(try decoder.singleValueContainer().decode(Int64.self)) / 1000)
        }
        return decoder
    }
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
