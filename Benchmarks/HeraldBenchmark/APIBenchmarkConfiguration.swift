import Crypto
import Foundation
import HeraldCore

/// The parts of the generated configuration the HTTP workloads (W1-HTTP, W6) need: an API token, an HS256 key for
/// user JWTs, a preference rate limit out of the way, and enough custom keys for a 40-key matrix.
enum APIBenchmarkConfiguration {
    /// The bearer token of the upstream app (only its SHA-256 is in the configuration).
    static let token = "herald-benchmark-token-0123456789abcdef"
    /// The HS256 secret of user JWTs (at least 32 bytes).
    static let jwtSecret = "herald-benchmark-jwt-secret-0123456789abcdef"
    /// Keys in the W6 matrix (SPEC §16: 40).
    static let matrixKeys = 40
    /// The organization of the W6 users.
    static let organization = "w6org"

    /// The custom keys added so the catalog has `matrixKeys` entries with the benchmark's own key.
    static var extraKeys: [String] {
        let missing = max(0, matrixKeys - Catalog.builtInEntries.count - 1)
        return (0..<missing).map { "bench_pref_\($0 + 1)" }
    }

    /// Where the JWT secret file goes.
    static func jwtSecretPath(directory: String) -> String { directory + "/jwt-secret" }

    /// Writes the secret files the `auth` section names.
    static func writeSecrets(directory: String) throws {
        try Data((jwtSecret + "\n").utf8).write(to: URL(fileURLWithPath: jwtSecretPath(directory: directory)))
    }

    /// The `auth` section.
    static func authYAML(directory: String) -> String {
        let digest = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        return """
            auth:
              tokens:
                - name: benchmark
                  sha256: "\(digest)"
                  scopes: ["admin"]
              jwt:
                hs256SecretFile: \(BenchmarkConfiguration.quoted(jwtSecretPath(directory: directory)))
              preferencesPerMinute: 100000000

            """
    }

    /// Catalog entries (indented as items of `catalog:`) for `extraKeys`; no channel on by default.
    static var catalogYAML: String {
        extraKeys.map { key in
            """
              - key: \(key)
                type: bench_prefs
                description: "A W6 matrix row"
                defaults: { email: true, slack: false, msteams: false, sms: false, webhook: false }

            """
        }.joined()
    }

    /// A user JWT (HS256, `sub` = `user`, valid for an hour).
    static func jwt(user: String) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let claims = base64URL(Data(#"{"sub":"\#(user)","iat":\#(now),"exp":\#(now + 3600)}"#.utf8))
        let signed = "\(header).\(claims)"
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data(signed.utf8),
            using: SymmetricKey(data: Data(jwtSecret.utf8))
        )
        return "\(signed).\(base64URL(Data(mac)))"
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The W6 directory: `users` active users of `w6org` with verified emails.
    static func directory(users: Int) -> String {
        let organization = #"{"id":"\#(organization)","slug":"\#(organization)","name":"W6 Org"}"#
        let people = (1...users).map { index in
            #"{"id":"\#(user(index))","organization":"\#(Self.organization)","name":"W6 User \#(index)","#
                + #""email":"w6u\#(index)@w6.test","emailVerified":true,"isActive":true}"#
        }
        return #"{"organizations":[\#(organization)],"users":[\#(people.joined(separator: ","))]}"#
    }

    /// The id of W6 user `index` (1-based).
    static func user(_ index: Int) -> String { "w6u\(index)" }
}
