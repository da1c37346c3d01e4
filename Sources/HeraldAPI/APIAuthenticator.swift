import Crypto
import Foundation
import HeraldCore
import JWTKit
import Synchronization

/// One configured API token: a name, the SHA-256 of the token and its scopes (the token itself is never stored).
public struct APITokenEntry: Sendable, Hashable {
    public var name: String
    /// The 32 bytes of SHA-256 over the token's UTF-8.
    public var digest: [UInt8]
    public var scopes: Set<APIScope>

    public init(name: String, digest: [UInt8], scopes: Set<APIScope>) {
        self.name = name
        self.digest = digest
        self.scopes = scopes
    }

    /// An entry from the hexadecimal digest of the configuration; nil when it is not 64 hex digits.
    public init?(name: String, sha256Hex: String, scopes: Set<APIScope>) {
        let hex = Array(sha256Hex.lowercased().utf8)
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = Self.nibble(hex[index]), let low = Self.nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(name: name, digest: bytes, scopes: scopes)
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// How user JWTs are checked (SPEC §11.1).
public struct JWTSettings: Sendable {
    /// The HS256 shared secret, if HS256 tokens are accepted.
    public var hs256Secret: [UInt8]?
    /// The Ed25519 public key (PEM, or the 32 raw bytes as base64url), if EdDSA tokens are accepted.
    public var ed25519PublicKey: String?
    /// The required `iss`, when configured.
    public var issuer: String?
    /// The required `aud` member, when configured.
    public var audience: String?
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    public var leeway: TimeInterval

    public init(
        hs256Secret: [UInt8]? = nil,
        ed25519PublicKey: String? = nil,
        issuer: String? = nil,
        audience: String? = nil,
        leeway: TimeInterval = 60
    ) {
        self.hs256Secret = hs256Secret
        self.ed25519PublicKey = ed25519PublicKey
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
    }
}

/// Turns an `Authorization: Bearer …` credential into a principal: an API token (SHA-256, compared in constant
/// time) or a user JWT (HS256 or EdDSA, verified by jwt-kit). Never logs or returns the credential.
public struct APIAuthenticator: Sendable {
    let tokens: [APITokenEntry]
    let jwt: JWTSettings
    /// jwt-kit's key collections are actors filled asynchronously; one per algorithm, made once.
    let keys: Task<(hs256: JWTKeyCollection?, eddsa: JWTKeyCollection?), Never>
    let clock: any WallClock
    /// Tokens whose signature was verified (their time, issuer and audience claims are checked on every use).
    let verified = VerifiedTokens()

    /// The shortest HS256 secret accepted (RFC 7518 §3.2: a key of at least the hash's size).
    public static let minimumSecretBytes = 32

    /// Builds the authenticator; throws when the HS256 secret is shorter than 32 bytes or the Ed25519 key
    /// cannot be read.
    public init(tokens: [APITokenEntry], jwt: JWTSettings, clock: any WallClock) throws {
        if let secret = jwt.hs256Secret, secret.count < Self.minimumSecretBytes {
            throw AuthenticationRefusal("the HS256 secret must be at least \(Self.minimumSecretBytes) bytes")
        }
        self.tokens = tokens
        self.jwt = jwt
        self.clock = clock
        let hmac = jwt.hs256Secret.map { HMACKey(from: $0) }
        let eddsa = try jwt.ed25519PublicKey.map { text in
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.hasPrefix("-----BEGIN")
                ? try EdDSA.PublicKey(pem: trimmed) : try EdDSA.PublicKey(x: trimmed, curve: .ed25519)
        }
        keys = Task {
            var hs256: JWTKeyCollection?
            var eddsaKeys: JWTKeyCollection?
            if let hmac {
                let collection = JWTKeyCollection()
                await collection.add(hmac: hmac, digestAlgorithm: .sha256)
                hs256 = collection
            }
            if let eddsa {
                let collection = JWTKeyCollection()
                await collection.add(eddsa: eddsa)
                eddsaKeys = collection
            }
            return (hs256, eddsaKeys)
        }
    }

    /// The principal a credential stands for.
    ///
    /// - Throws: a reason (for the 401 message) when the credential is not valid; it never quotes the credential.
    public func authenticate(bearer credential: String) async throws(AuthenticationRefusal) -> Principal {
        if credential.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2 {
            return try await verifyJWT(credential)
        }
        let digest = Array(SHA256.hash(data: Array(credential.utf8)))
        // Every entry is compared in full, so the time taken does not tell which entry (or byte) differed.
        var match: APITokenEntry?
        for entry in tokens where Self.constantTimeEqual(entry.digest, digest) && match == nil {
            match = entry
        }
        guard let match else { throw AuthenticationRefusal("the token is not valid") }
        return .token(name: match.name, scopes: match.scopes)
    }

    /// Compares two byte strings in time that depends only on their length.
    static func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    private func verifyJWT(_ token: String) async throws(AuthenticationRefusal) -> Principal {
        // The header's `alg` picks the key collection, so an HS256 token is never checked against the
        // Ed25519 key (algorithm confusion) and `none` matches no key at all.
        guard let algorithm = Self.headerAlgorithm(token) else {
            throw AuthenticationRefusal("the JWT header is not valid")
        }
        let collections = await self.keys.value
        let keys: JWTKeyCollection?
        switch algorithm {
        case "HS256": keys = collections.hs256
        case "EdDSA", "Ed25519": keys = collections.eddsa
        default: throw AuthenticationRefusal("the JWT algorithm \"\(Self.printable(algorithm))\" is not accepted")
        }
        guard let keys else { throw AuthenticationRefusal("the JWT algorithm \"\(algorithm)\" is not accepted") }
        let claims: UserClaims
        if let known = verified.claims(of: token) {
            claims = known
        } else {
            do {
                claims = try await keys.verify(token, as: UserClaims.self)
            } catch {
                throw AuthenticationRefusal("the JWT signature or claims are not valid")
            }
            verified.remember(token, claims)
        }
        let now = clock.now()
        guard claims.exp.value.addingTimeInterval(jwt.leeway) > now else {
            throw AuthenticationRefusal("the JWT has expired")
        }
        if let nbf = claims.nbf, nbf.value.addingTimeInterval(-jwt.leeway) > now {
            throw AuthenticationRefusal("the JWT is not valid yet")
        }
        if let iat = claims.iat, iat.value.addingTimeInterval(-jwt.leeway) > now {
            throw AuthenticationRefusal("the JWT was issued in the future")
        }
        if let issuer = jwt.issuer, claims.iss?.value != issuer {
            throw AuthenticationRefusal("the JWT issuer is not accepted")
        }
        if let audience = jwt.audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw AuthenticationRefusal("the JWT audience is not accepted")
        }
        let subject = claims.sub.value
        guard EventIntake.identifierProblem(subject) == nil else {
            throw AuthenticationRefusal("the JWT subject is not a valid user id")
        }
        return .user(id: subject)
    }

    /// The `alg` of a compact JWT's header, without trusting anything else of it.
    static func headerAlgorithm(_ token: String) -> String? {
        guard let first = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        var base64 = first.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            case .object(let header)? = try? JSONParser.parse(data),
            case .string(let algorithm)? = header["alg"]
        else { return nil }
        return algorithm
    }

    private static func printable(_ text: String) -> String {
        String(text.prefix(16).unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init))
    }
}

/// JWTs whose signature checked out, with their claims: a client sends the same token on every request for its
/// lifetime, and verifying it again (an actor hop into jwt-kit, a JSON decode, an HMAC or Ed25519 check) was a
/// tenth of the CPU of a preference read (SPEC §16 W6). Bounded; only ever holds tokens that verified.
final class VerifiedTokens: Sendable {
    static let capacity = 4096
    private let entries = Mutex<[String: UserClaims]>([:])

    func claims(of token: String) -> UserClaims? { entries.withLock { $0[token] } }

    func remember(_ token: String, _ claims: UserClaims) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }

    var count: Int { entries.withLock { $0.count } }
}

/// Why a credential did not authenticate (shown in the 401 message; never contains the credential).
public struct AuthenticationRefusal: Error, Sendable, Hashable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// The claims of a user JWT; times are checked against the injected clock after the signature.
struct UserClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    func verify(using algorithm: some JWTAlgorithm) throws {
        // Time and audience checks need the injected clock and the configuration: done by the authenticator.
    }
}
