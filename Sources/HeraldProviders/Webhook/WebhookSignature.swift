import Crypto
import Foundation

/// The `X-Herald-Signature` header: `sha256=` and the lower-case hex HMAC-SHA256 of the request body,
/// keyed with the notifier's signing secret. Receivers recompute it over the raw body and compare in
/// constant time.
public enum WebhookSignature {
    /// The header name.
    public static let headerName = "X-Herald-Signature"

    /// The header value for `body` signed with `secret`.
    public static func value(for body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` is the valid signature of `body` under `secret` (constant-time comparison).
    public static func isValid(_ header: String, body: Data, secret: String) -> Bool {
        guard header.hasPrefix("sha256="), let mac = hexBytes(header.dropFirst("sha256=".count)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac,
            authenticating: body,
            using: SymmetricKey(data: Data(secret.utf8))
        )
    }

    private static func hexBytes(_ hex: Substring) -> Data? {
        guard hex.count.isMultiple(of: 2) else { return nil }
        var bytes = Data(capacity: hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
