import Crypto
import Foundation
import HTTPTypes
import HeraldAPI
import HeraldCore
import HeraldSQLite
import HeraldTesting
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import Synchronization
import Testing

/// One API under test: a real SQLite file, a manual clock, tokens and JWT keys, captured log lines, and the
/// application built by `APIApplication.buildApplication` exactly as the daemon builds it.
final class APIHarness: Sendable {
    static let adminToken = "test-admin-token-0001"
    static let writerToken = "test-writer-token-0002"
    static let readerToken = "test-reader-token-0003"
    /// Holds `otp:write` only.
    static let otpToken = "test-otp-token-0004"
    static let hs256Secret = "test-hs256-secret-for-user-jwts-0123456789"

    let directory: URL
    let store: SQLiteStore
    let clock: ManualClock
    let dependencies: APIDependencies
    let logs: LogCapture
    let routes: RouteTable
    let ed25519: Curve25519.Signing.PrivateKey

    init(
        limits: APILimits = APILimits(),
        operations: APIOperations = APIOperations(),
        notifiers: [NotifierDescription] = APIHarness.notifiers,
        store existing: SQLiteStore? = nil,
        storeDirectory: URL? = nil,
        jwtIssuer: String? = nil,
        jwtAudience: String? = nil,
        otp: (@Sendable (_ store: SQLiteStore, _ clock: ManualClock) -> OTPService)? = nil,
        linkSigner: LinkSigner? = nil
    ) async throws {
        if let storeDirectory {
            directory = storeDirectory
        } else {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("herald-api-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        if let existing {
            store = existing
        } else {
            store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
            try await store.migrate()
        }
        clock = ManualClock(start: Date(timeIntervalSince1970: 1_795_000_000))
        ed25519 = Curve25519.Signing.PrivateKey()
        logs = LogCapture()
        let tokens = [
            APITokenEntry(name: "admin", digest: Self.digest(Self.adminToken), scopes: [.admin]),
            APITokenEntry(
                name: "writer",
                digest: Self.digest(Self.writerToken),
                scopes: [.eventsWrite, .directoryWrite, .preferencesWrite, .settingsWrite]
            ),
            APITokenEntry(
                name: "reader",
                digest: Self.digest(Self.readerToken),
                scopes: [.eventsRead, .directoryRead, .preferencesRead]
            ),
            APITokenEntry(name: "otp", digest: Self.digest(Self.otpToken), scopes: [.otpWrite]),
        ]
        let authenticator = try APIAuthenticator(
            tokens: tokens,
            jwt: JWTSettings(
                hs256Secret: Array(Self.hs256Secret.utf8),
                ed25519PublicKey: EdDSA.PublicKey(backing: ed25519.publicKey).pemRepresentation,
                issuer: jwtIssuer,
                audience: jwtAudience
            ),
            clock: clock
        )
        let capture = logs
        var logger = Logger(label: "herald-api-test") { _ in capture.handler }
        logger.logLevel = .trace
        var dependencies = APIDependencies(
            store: store,
            catalog: RuntimeCatalog(base: Catalog(custom: [APIHarness.customEntry])),
            authenticator: authenticator,
            clock: clock,
            limits: limits,
            notifiers: notifiers,
            operations: operations,
            logger: logger,
            linkSigner: linkSigner
        )
        dependencies.otp = otp?(store, clock)
        self.dependencies = dependencies
        routes = APIApplication.buildRouter(dependencies).routes
    }

    static let notifiers = [
        NotifierDescription(id: 1, name: "smtp-main", channel: .email),
        NotifierDescription(id: 2, name: "slack-bot", channel: .slack),
        NotifierDescription(id: 5, name: "twilio", channel: .sms),
        NotifierDescription(id: 7, name: "twilio-backup", channel: .sms),
    ]

    static let customEntry = CatalogEntry(
        key: "payout_processed",
        type: NotificationType("payments"),
        description: "A payout was processed",
        defaults: [.email: true, .sms: true]
    )

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Runs `body` against the application (the router test framework: no sockets, same middleware).
    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let application = APIApplication.buildApplication(dependencies, host: "127.0.0.1", port: 0)
        try await application.test(.router, body)
    }

    /// The same over a real socket.
    func testLive(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let application = APIApplication.buildApplication(dependencies, host: "127.0.0.1", port: 0)
        try await application.test(.live, body)
    }

    // MARK: JWTs

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var iss: IssuerClaim?
        var aud: AudienceClaim?
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    /// An HS256 JWT for `user`, expiring `expiresIn` seconds after the harness clock's now.
    func userJWT(
        _ user: String,
        expiresIn: TimeInterval? = 600,
        secret: String = APIHarness.hs256Secret,
        issuer: String? = nil,
        audience: String? = nil
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims(user, expiresIn: expiresIn, issuer: issuer, audience: audience))
    }

    /// An EdDSA JWT signed with `key` (the harness's own key by default).
    func userEdDSAJWT(_ user: String, key: Curve25519.Signing.PrivateKey? = nil) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: EdDSA.PrivateKey(backing: key ?? ed25519))
        return try await keys.sign(claims(user, expiresIn: 600, issuer: nil, audience: nil))
    }

    private func claims(_ user: String, expiresIn: TimeInterval?, issuer: String?, audience: String?) -> Claims {
        Claims(
            sub: SubjectClaim(value: user),
            exp: expiresIn.map { ExpirationClaim(value: clock.now().addingTimeInterval($0)) },
            iss: issuer.map { IssuerClaim(value: $0) },
            aud: audience.map { AudienceClaim(value: [$0]) }
        )
    }

    /// A JWT with `alg: none` and no signature.
    func unsignedJWT(_ user: String) -> String {
        let header = Array(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URL
        let exp = Int(clock.now().timeIntervalSince1970) + 600
        let payload = Array(#"{"sub":"\#(user)","exp":\#(exp)}"#.utf8).base64URL
        return "\(header).\(payload)."
    }
}

extension Array where Element == UInt8 {
    var base64URL: String {
        Data(self).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// Captures every log line (rendered with its metadata) for leak checks: the shared line buffer behind a Mutex.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    init() {}

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var all: [String] { lines.withLock { $0 } }

    /// A handler writing here. swift-log copies handlers by value and each request's logger sets its own
    /// metadata (the request id), so the handler is a struct: concurrent requests never share its metadata.
    var handler: Handler { Handler(capture: self) }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let text =
                "\(event.level) \(event.message) "
                + merged.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            capture.append(text)
        }
    }
}

// MARK: Requests

extension TestClientProtocol {
    /// Sends a JSON request and returns the response.
    @discardableResult
    func send(
        _ method: HTTPTypes.HTTPRequest.Method,
        _ uri: String,
        token: String? = nil,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await executeRequest(
            uri: uri,
            method: method,
            headers: headers,
            body: json.map { ByteBuffer(string: $0) }
        )
    }
}

extension TestResponse {
    /// The body parsed as JSON.
    var json: JSONValue {
        get throws { try JSONParser.parse(Data(body.readableBytesView)) }
    }

    /// `data` of a success envelope.
    var data: JSONValue {
        get throws {
            let value = try json
            #expect(value["success"] == .bool(true), "\(String(buffer: body))")
            return value["data"] ?? .null
        }
    }

    /// `error` of an error envelope.
    var error: JSONValue {
        get throws {
            let value = try json
            #expect(value["success"] == .bool(false), "\(String(buffer: body))")
            return value["error"] ?? .null
        }
    }

    var errorCode: String? { (try? error)?["code"]?.stringValue }

    /// The `field` of every detail of an error.
    var errorFields: [String] {
        ((try? error)?["details"]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
    }
}

extension JSONValue {
    /// The element at `index` of an array value.
    subscript(_ index: Int) -> JSONValue? {
        guard let elements = arrayValue, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
