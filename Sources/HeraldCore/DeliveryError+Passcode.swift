import Foundation

extension DeliveryError {
    /// The error with every run of 4 to 10 digits that also stands alone in `payload` replaced by `[code]`.
    ///
    /// For passcode deliveries (SPEC §11.6): the code lives only in the rendered payload, and a provider or relay
    /// that echoes the request in its error answer must not carry it into the stored last error, `herald
    /// explain`, `deliveries list` or a log line. Digits the payload does not hold (a status, a provider's error
    /// code) are kept.
    public func withoutPasscodeDigits(of payload: Data) -> DeliveryError {
        let candidates = Self.digitRuns(in: String(decoding: payload, as: UTF8.self))
        guard !candidates.isEmpty else { return self }
        var copy = self
        var text = ""
        var run = ""
        func flush() {
            text += candidates.contains(run) ? "[code]" : run
            run = ""
        }
        for character in detail {
            if character.isASCII, character.isNumber {
                run.append(character)
            } else {
                flush()
                text.append(character)
            }
        }
        flush()
        copy.detail = text
        return copy
    }

    /// Every maximal run of 4 to 10 ASCII digits in `text`.
    static func digitRuns(in text: String) -> Set<String> {
        var runs = Set<String>()
        var run = ""
        for character in text {
            if character.isASCII, character.isNumber {
                run.append(character)
                continue
            }
            if (4...10).contains(run.count) { runs.insert(run) }
            run = ""
        }
        if (4...10).contains(run.count) { runs.insert(run) }
        return runs
    }
}
