/// The two SMS alphabets and their segment arithmetic (3GPP TS 23.038; providers.md §4).
///
/// A message whose every character is in the GSM 03.38 alphabet goes out as GSM-7: 160 septets in one
/// segment, 153 per segment when concatenated (the header takes 7), with the extension characters
/// `^ { } [ ] ~ \ | €` and form feed taking 2 septets. Any other character switches the whole message to
/// UCS-2: 70 UTF-16 units in one segment, 67 per segment concatenated, characters outside the BMP taking 2.
/// Neither encoder splits a character across segments.
public enum SMSEncoding: String, Sendable, Hashable, CaseIterable {
    /// The GSM 03.38 default alphabet with its extension table.
    case gsm7 = "GSM-7"
    /// UTF-16 code units (UCS-2 on the wire, with surrogate pairs).
    case ucs2 = "UCS-2"

    /// Units that fit a single-segment message.
    public var singleSegmentCapacity: Int {
        switch self {
        case .gsm7: 160
        case .ucs2: 70
        }
    }

    /// Units per segment of a concatenated message.
    public var concatenatedSegmentCapacity: Int {
        switch self {
        case .gsm7: 153
        case .ucs2: 67
        }
    }

    /// The encoding `text` needs: GSM-7 when every character is in the GSM alphabet, else UCS-2.
    public static func required(for text: String) -> SMSEncoding {
        text.unicodeScalars.allSatisfy { gsmBasic.contains($0) || gsmExtension.contains($0) } ? .gsm7 : .ucs2
    }

    /// Whether every character of `text` is in the GSM alphabet.
    public static func isGSM(_ text: String) -> Bool {
        required(for: text) == .gsm7
    }

    /// How many units `character` takes in this encoding (septets or UTF-16 units).
    public func units(of character: Character) -> Int {
        switch self {
        case .gsm7: character.unicodeScalars.reduce(0) { $0 + (Self.gsmExtension.contains($1) ? 2 : 1) }
        case .ucs2: character.utf16.count
        }
    }

    /// How many segments `text` takes in its required encoding, characters never split (an upper bound of
    /// what a carrier sends); 1 for empty text.
    public static func segmentCount(of text: String) -> Int {
        let encoding = required(for: text)
        return encoding.segmentCount(ofUnits: text.map(encoding.units(of:)))
    }

    /// Packs characters of the given unit sizes into segments.
    func segmentCount(ofUnits units: [Int]) -> Int {
        if units.reduce(0, +) <= singleSegmentCapacity { return 1 }
        var segments = 1
        var used = 0
        for size in units {
            if used + size > concatenatedSegmentCapacity {
                segments += 1
                used = 0
            }
            used += size
        }
        return segments
    }

    /// The GSM 03.38 default alphabet (one septet each).
    static let gsmBasic: Set<Unicode.Scalar> = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars
    )

    /// The extension table, reached through an escape septet (two septets each).
    static let gsmExtension: Set<Unicode.Scalar> = Set("\u{0C}^{}\\[~]|€".unicodeScalars)
}
