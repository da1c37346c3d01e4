import Foundation
import HeraldCore

/// Turns Teams' answers into delivery outcomes (providers.md §3.3, §8).
///
/// Workflows answer 202 with an empty body when the trigger fired; retired connectors answer 200 with the
/// body `1`, and signal throttling inside a 200 ("returned HTTP error 429"). Any other 200 body means the
/// connector did not post. Unknown answers are permanent: logged for review, never looped on.
struct MSTeamsResponseClassifier: Sendable {
    /// Classifies one HTTP response received at `now`.
    func classify(_ response: HTTPResponse, now: Date) -> DeliveryOutcome {
        let status = response.status
        let body = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        let detail = Self.detail(status: status, body: body)
        let retryAfter = RetryAfter.parse(response.retryAfter, now: now)
        switch status {
        case 202:
            // The trigger fired; the card can still fail inside the flow, which the sender never sees.
            return .delivered(receipt: nil)
        case 200:
            if body == "1" { return .delivered(receipt: nil) }
            if body.contains("429") {
                return .failed(.retry(.rateLimited, status: status, notBefore: retryAfter, detail))
            }
            return .failed(.permanent(.invalidPayload, status: status, detail))
        case 408:
            return .failed(.retry(.timeout, status: status, notBefore: retryAfter, detail))
        case 429:
            return .failed(.retry(.rateLimited, status: status, notBefore: retryAfter, detail))
        case 500..<600:
            // The flow may have run before the error: a retry can post twice.
            return .failed(.retry(.serverError, status: status, notBefore: retryAfter, detail, ambiguous: true))
        case 400, 413:
            // Malformed JSON, a trigger-schema mismatch, or too large: a rendering bug.
            return .failed(.permanent(.invalidPayload, status: status, detail))
        case 401, 403:
            // A bad or expired signature, or a trigger restricted to the tenant's users.
            return .failed(.permanent(.authentication, status: status, detail))
        case 404, 410:
            // The flow or connector was deleted, or the URL is wrong.
            return .failed(.permanent(.configuration, status: status, detail))
        case 300..<400:
            return .failed(.permanent(.configuration, status: status, detail))
        default:
            return .failed(.permanent(.clientError, status: status, detail))
        }
    }

    /// `msteams HTTP 404: <body excerpt>`. The whole target URL is a credential, so path-like words,
    /// `sig=` values and long opaque tokens are masked in case the body echoes the request.
    static func detail(status: Int, body: String) -> String {
        let text = "msteams HTTP \(status)" + (body.isEmpty ? "" : ": " + maskOpaqueTokens(maskSignatures(body)))
        return ErrorDetail.sanitize(text, maskPaths: true)
    }

    /// The shortest run of URL-safe characters treated as a possible signature: a Workflows `sig` is a
    /// 43-character base64url HMAC, and an error message may quote it without its `sig=`.
    static let opaqueTokenLength = 32

    /// Replaces runs of at least `opaqueTokenLength` letters, digits, `-`, `_` and `%` that mix letters and
    /// digits with `[REDACTED]`. Ordinary words never qualify; ids such as GUIDs may, which costs little.
    static func maskOpaqueTokens(_ text: String) -> String {
        var output = ""
        var run = ""
        func flush() {
            let mixed = run.contains(where: \.isLetter) && run.contains(where: \.isNumber)
            output += run.count >= opaqueTokenLength && mixed ? "[REDACTED]" : run
            run = ""
        }
        for character in text {
            if character.isASCII, character.isLetter || character.isNumber || "-_%".contains(character) {
                run.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    /// Replaces the value of every `sig=` parameter (also percent-encoded as `sig%3D`) with `[REDACTED]`.
    static func maskSignatures(_ text: String) -> String {
        var output = ""
        var rest = text[...]
        while let match = rest.range(of: #"sig(=|%3[dD])"#, options: [.regularExpression, .caseInsensitive]) {
            output += rest[..<match.upperBound]
            output += "[REDACTED]"
            rest = rest[match.upperBound...].drop { !Self.endsParameter($0) }
        }
        return output + rest
    }

    private static func endsParameter(_ character: Character) -> Bool {
        character == "&" || character == "\"" || character == "'" || character == "<" || character.isWhitespace
    }
}
