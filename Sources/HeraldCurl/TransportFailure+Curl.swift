import CCurl
import Foundation
import HeraldCore

extension TransportFailure {
    /// Which protocol a transfer spoke; a few CURLcodes mean different things for HTTP and SMTP.
    enum CurlProtocol {
        case http
        case smtp
    }

    /// Builds a failure from a libcurl result, with a message that carries no URL or credential.
    ///
    /// - Parameters:
    ///   - code: the transfer's CURLcode.
    ///   - detail: the text of `CURLOPT_ERRORBUFFER` (may be empty).
    ///   - secrets: strings that must not appear in the message (the URL, passwords).
    static func curl(
        code: CURLcode,
        protocol curlProtocol: CurlProtocol,
        requestSent: Bool,
        detail: String,
        secrets: [String],
        responseCode: Int? = nil
    ) -> TransportFailure {
        let number = Int(code.rawValue)
        return TransportFailure(
            kind: kind(forCurlCode: number, protocol: curlProtocol),
            code: number,
            requestSent: requestSent,
            message: redactedMessage(code: code, detail: detail, secrets: secrets),
            responseCode: responseCode
        )
    }

    /// Maps a CURLcode to a failure kind (providers.md §6.6).
    static func kind(forCurlCode code: Int, protocol curlProtocol: CurlProtocol) -> Kind {
        switch code {
        case 5, 6, 7: return .connect
        case 35: return .tlsHandshake
        case 28: return .timeout
        case 16, 18, 52, 55, 56, 92: return .transfer
        // HTTP: a garbled reply, retried with a cap. SMTP: the reply code decides (providers.md §5.3); the
        // failure carries it in `responseCode`, and the transfer kind keeps the default retryable.
        case 8, 9: return .transfer
        // 64 is CURLE_USE_SSL_FAILED: the relay would not do STARTTLS, which is TLS policy, not a password.
        case 60, 64, 77, 90, 98: return .tlsConfiguration
        case 67, 94: return .authentication
        case 1, 3, 43, 47: return .configuration
        case 42: return .aborted
        case 2, 27: return .local
        default: return .unknown
        }
    }

    /// `CURLE_NAME: strerror (error buffer)`, scrubbed of secrets and of anything that looks like a URL.
    static func redactedMessage(code: CURLcode, detail: String, secrets: [String]) -> String {
        var text = "\(curlCodeName(Int(code.rawValue))): \(String(cString: curl_easy_strerror(code)))"
        let trimmed = detail.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty {
            text += " (\(trimmed))"
        }
        return removingURLs(from: Redaction.scrub(text, secrets: secrets))
    }

    /// Replaces every `scheme://…` run with its redacted form (scheme and host only): webhook URLs are secrets.
    static func removingURLs(from text: String) -> String {
        guard text.contains("://") else { return text }
        var output = ""
        var rest = text[...]
        while let marker = rest.range(of: "://") {
            var start = marker.lowerBound
            while start > rest.startIndex {
                let previous = rest.index(before: start)
                let character = rest[previous]
                guard
                    character.isLetter || character.isNumber || character == "+" || character == "-"
                        || character == "."
                else { break }
                start = previous
            }
            var end = marker.upperBound
            while end < rest.endIndex, !rest[end].isWhitespace, !"\"'<>()[]{},`".contains(rest[end]) {
                end = rest.index(after: end)
            }
            output += rest[..<start]
            output += Redaction.redactedURL(String(rest[start..<end]))
            rest = rest[end...]
        }
        output += rest
        return output
    }

    /// The symbolic name of a CURLcode, for logs.
    static func curlCodeName(_ code: Int) -> String {
        switch code {
        case 0: return "CURLE_OK"
        case 1: return "CURLE_UNSUPPORTED_PROTOCOL"
        case 2: return "CURLE_FAILED_INIT"
        case 3: return "CURLE_URL_MALFORMAT"
        case 5: return "CURLE_COULDNT_RESOLVE_PROXY"
        case 6: return "CURLE_COULDNT_RESOLVE_HOST"
        case 7: return "CURLE_COULDNT_CONNECT"
        case 8: return "CURLE_WEIRD_SERVER_REPLY"
        case 9: return "CURLE_REMOTE_ACCESS_DENIED"
        case 16: return "CURLE_HTTP2"
        case 18: return "CURLE_PARTIAL_FILE"
        case 23: return "CURLE_WRITE_ERROR"
        case 26: return "CURLE_READ_ERROR"
        case 27: return "CURLE_OUT_OF_MEMORY"
        case 28: return "CURLE_OPERATION_TIMEDOUT"
        case 35: return "CURLE_SSL_CONNECT_ERROR"
        case 42: return "CURLE_ABORTED_BY_CALLBACK"
        case 43: return "CURLE_BAD_FUNCTION_ARGUMENT"
        case 47: return "CURLE_TOO_MANY_REDIRECTS"
        case 52: return "CURLE_GOT_NOTHING"
        case 55: return "CURLE_SEND_ERROR"
        case 56: return "CURLE_RECV_ERROR"
        case 60: return "CURLE_PEER_FAILED_VERIFICATION"
        case 64: return "CURLE_USE_SSL_FAILED"
        case 67: return "CURLE_LOGIN_DENIED"
        case 77: return "CURLE_SSL_CACERT_BADFILE"
        case 90: return "CURLE_SSL_PINNEDPUBKEYNOTMATCH"
        case 92: return "CURLE_HTTP2_STREAM"
        case 94: return "CURLE_AUTH_ERROR"
        case 98: return "CURLE_SSL_CLIENTCERT"
        default: return "CURLcode \(code)"
        }
    }
}
