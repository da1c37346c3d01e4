import Foundation

/// One header of a request or response.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An HTTP request for a transport. The URL and headers may carry credentials: never log them.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: Data
    /// Per-attempt connect timeout (SPEC §10: 5 s).
    public var connectTimeout: TimeInterval
    /// Per-attempt total timeout (SPEC §10: 15 s).
    public var totalTimeout: TimeInterval

    public init(
        method: String = "POST",
        url: String,
        headers: [HTTPHeader] = [],
        body: Data = Data(),
        connectTimeout: TimeInterval = 5,
        totalTimeout: TimeInterval = 15
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }
}

/// What came back from the server.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    /// The raw `Retry-After` header, if any.
    public var retryAfter: String?
    /// The `Content-Type` header, if any.
    public var contentType: String?
    /// The body, capped by the transport (64 KiB).
    public var body: Data

    public init(status: Int, retryAfter: String? = nil, contentType: String? = nil, body: Data = Data()) {
        self.status = status
        self.retryAfter = retryAfter
        self.contentType = contentType
        self.body = body
    }

    /// The body as UTF-8 text (lossy).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A transfer that produced no usable response.
public struct TransportFailure: Error, Sendable, Hashable {
    /// Broad kinds of transport failure, mapped from libcurl's codes.
    public enum Kind: String, Sendable, Hashable {
        /// Could not resolve or connect: nothing was sent.
        case connect
        /// TLS handshake failed.
        case tlsHandshake
        /// The transfer timed out.
        case timeout
        /// Send or receive failed mid-transfer.
        case transfer
        /// Certificate or TLS policy problem.
        case tlsConfiguration
        /// Login or credentials refused (SMTP AUTH).
        case authentication
        /// The URL or an option is wrong: a configuration error or a bug.
        case configuration
        /// Cancelled by us (shutdown).
        case aborted
        /// Out of memory or similar local problem.
        case local
        /// A code we do not know.
        case unknown
    }

    public var kind: Kind
    /// The library's own error number (CURLcode), for logs.
    public var code: Int
    /// Whether any of the request had been sent (a retry may duplicate).
    public var requestSent: Bool
    /// A redacted message.
    public var message: String
    /// The last protocol reply code seen (SMTP), when any.
    public var responseCode: Int?

    public init(kind: Kind, code: Int, requestSent: Bool, message: String, responseCode: Int? = nil) {
        self.kind = kind
        self.code = code
        self.requestSent = requestSent
        self.message = message
        self.responseCode = responseCode
    }

    /// The classification shared by every HTTP provider (providers.md §6.6).
    public var deliveryError: DeliveryError {
        let detail = "transport error \(code): \(message)"
        switch kind {
        case .connect: return .retry(.connection, detail)
        case .tlsHandshake: return .retry(.connection, detail)
        case .timeout: return .retry(.timeout, detail, ambiguous: requestSent)
        case .transfer: return .retry(.connection, detail, ambiguous: requestSent)
        case .aborted: return .retry(.connection, detail)
        case .local: return .retry(.connection, detail)
        case .tlsConfiguration: return .permanent(.configuration, detail)
        case .authentication: return .permanent(.authentication, detail)
        case .configuration: return .permanent(.configuration, detail)
        case .unknown: return .permanent(.clientError, detail)
        }
    }
}

/// The result of one transfer.
public enum TransportResult: Sendable {
    case response(HTTPResponse)
    case failure(TransportFailure)
}

/// Sends HTTP requests; the implementation owns connection reuse and concurrency.
public protocol HTTPTransport: Sendable {
    /// Performs one request; never throws, failures are results.
    func send(_ request: HTTPRequest) async -> TransportResult

    /// Starts one request and calls `completion` exactly once with its result, on a thread of the transport's
    /// choosing (keep it short and never block in it). The send stage uses this to avoid a task and a
    /// continuation hop per delivery; the default runs `send` in a task.
    func start(_ request: HTTPRequest, completion: @escaping @Sendable (TransportResult) -> Void)
}

extension HTTPTransport {
    public func start(_ request: HTTPRequest, completion: @escaping @Sendable (TransportResult) -> Void) {
        Task { completion(await send(request)) }
    }
}

/// An email ready for SMTP: the envelope and the RFC 5322 message.
public struct MailMessage: Sendable {
    /// SMTP URL of the relay (`smtps://host:465`, `smtp://host:587`).
    public var relayURL: String
    public var username: String?
    public var password: String?
    /// Whether plain `smtp://` without STARTTLS is allowed.
    public var allowInsecure: Bool
    /// MAIL FROM.
    public var envelopeFrom: String
    /// RCPT TO.
    public var envelopeTo: [String]
    /// Header lines (each ending in CRLF) sent before `body`: kept apart so that a stored message goes out
    /// without being copied while it waits for a connection.
    public var leadingHeaders: Data
    /// The rest of the message, with CRLF line endings.
    public var body: Data
    public var connectTimeout: TimeInterval

    /// The whole message as sent: `leadingHeaders`, then `body`.
    public var message: Data { leadingHeaders.isEmpty ? body : leadingHeaders + body }
    public var totalTimeout: TimeInterval

    public init(
        relayURL: String,
        username: String? = nil,
        password: String? = nil,
        allowInsecure: Bool = false,
        envelopeFrom: String,
        envelopeTo: [String],
        leadingHeaders: Data = Data(),
        message: Data,
        connectTimeout: TimeInterval = 5,
        totalTimeout: TimeInterval = 30
    ) {
        self.relayURL = relayURL
        self.username = username
        self.password = password
        self.allowInsecure = allowInsecure
        self.envelopeFrom = envelopeFrom
        self.envelopeTo = envelopeTo
        self.leadingHeaders = leadingHeaders
        self.body = message
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
    }
}

/// The result of one SMTP transaction.
public enum MailResult: Sendable {
    /// Accepted by the relay with the final reply code (250).
    case accepted(replyCode: Int)
    case failure(TransportFailure)
}

/// Sends email through an SMTP relay.
public protocol MailTransport: Sendable {
    func send(_ message: MailMessage) async -> MailResult

    /// Starts one transaction and calls `completion` exactly once with its result (see `HTTPTransport.start`).
    func start(_ message: MailMessage, completion: @escaping @Sendable (MailResult) -> Void)
}

extension MailTransport {
    public func start(_ message: MailMessage, completion: @escaping @Sendable (MailResult) -> Void) {
        Task { completion(await send(message)) }
    }
}
