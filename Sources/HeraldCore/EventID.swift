import Foundation

/// Generates time-ordered identifiers (ULID layout: 48 bits of milliseconds, 80 random bits, Crockford base32).
public enum EventID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new event id such as `evt_01HZX3…`.
    public static func generate(at date: Date = Date()) -> String {
        "evt_" + ulid(at: date)
    }

    /// A 26-character ULID string for `date`.
    public static func ulid(at date: Date) -> String {
        var generator = SystemRandomNumberGenerator()
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let randomHigh = UInt64(generator.next() as UInt16)
        let randomLow = generator.next() as UInt64
        var output = [UInt8](repeating: 0, count: 26)
        // 10 characters of time (50 bits, top 2 always zero), then 16 characters of randomness (80 bits).
        var time = millis
        for index in stride(from: 9, through: 0, by: -1) {
            output[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        var low = randomLow
        var high = randomHigh
        for index in stride(from: 25, through: 10, by: -1) {
            output[index] = alphabet[Int(low & 31)]
            low = (low >> 5) | ((high & 31) << 59)
            high >>= 5
        }
        return String(decoding: output, as: UTF8.self)
    }
}
