import CCurl
import Foundation
import HeraldCore

/// HTTP and SMTP over libcurl's multi interface: one thread owns one multi handle and runs every transfer,
/// reusing easy handles and keep-alive connections (SPEC §10, providers.md §6).
///
/// `send` never blocks a task's thread: it queues the request for the loop thread and suspends until the
/// transfer finishes. `start` queues it too and calls back on the loop thread when it finishes. Call
/// `shutdown()` before dropping the transport to fail what is still in flight.
public final class CurlTransport: HTTPTransport, MailTransport {
    private let loop: CurlMultiLoop

    /// Process-wide set-up, run once: libcurl's global init, and SIGPIPE ignored because with
    /// `CURLOPT_NOSIGNAL` a write to a closed socket (in OpenSSL) could otherwise kill the process.
    private static let processSetUp: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return curl_global_init(herald_curl_global_all()) == CURLE_OK
    }()

    /// Creates a transport and starts its loop thread.
    ///
    /// - Parameters:
    ///   - maxHostConnections: connections per host and port (`CURLMOPT_MAX_HOST_CONNECTIONS`); more
    ///     transfers to one host wait for a free connection, and that wait counts toward their total timeout.
    ///     To plain-HTTP and SMTP origins, which run one transfer per connection, the surplus waits in the
    ///     transport as queued requests, holding no libcurl handle; HTTPS transfers go to libcurl at once, since
    ///     HTTP/2 may carry many of them over one connection.
    ///   - maxCachedConnections: idle connections kept for reuse (`CURLMOPT_MAXCONNECTS`).
    public init(maxHostConnections: Int = 8, maxCachedConnections: Int = 64) {
        guard Self.processSetUp,
            let loop = CurlMultiLoop(maxHostConnections: maxHostConnections, maxCachedConnections: maxCachedConnections)
        else {
            fatalError("libcurl could not be initialised")
        }
        self.loop = loop
        loop.start()
    }

    deinit {
        loop.shutdown()
    }

    /// libcurl easy handles that exist now, running or pooled (for tests of the transport's footprint).
    package var easyHandleCount: Int { loop.handleCount }

    /// Performs one HTTP request; failures are results, never thrown.
    public func send(_ request: HTTPRequest) async -> TransportResult {
        await withCheckedContinuation { continuation in
            start(request) { continuation.resume(returning: $0) }
        }
    }

    /// Starts one HTTP request; `completion` runs on the loop thread (or here, for a request refused before
    /// libcurl sees it) and must not block.
    public func start(_ request: HTTPRequest, completion: @escaping @Sendable (TransportResult) -> Void) {
        if let failure = Self.validate(request) {
            completion(.failure(failure))
            return
        }
        loop.submit(.http(request, completion))
    }

    /// Performs one SMTP transaction; envelope addresses with CR, LF or NUL are refused before libcurl sees them.
    public func send(_ message: MailMessage) async -> MailResult {
        await withCheckedContinuation { continuation in
            start(message) { continuation.resume(returning: $0) }
        }
    }

    /// Starts one SMTP transaction; `completion` runs as for `start(_:completion:)` of an HTTP request.
    public func start(_ message: MailMessage, completion: @escaping @Sendable (MailResult) -> Void) {
        if let failure = Self.validate(message) {
            completion(.failure(failure))
            return
        }
        loop.submit(.smtp(message, completion))
    }

    /// Fails queued and running transfers with `.aborted`, stops the loop thread and waits for it.
    /// Later sends fail at once with `.aborted`. Safe to call more than once.
    public func shutdown() {
        loop.shutdown()
    }

    // MARK: - Validation before libcurl

    /// libcurl 7.88.1 passes CR and LF in header lines, methods and SMTP envelopes through to the wire.
    private static func validate(_ request: HTTPRequest) -> TransportFailure? {
        if containsLineBreak(request.url) || request.url.isEmpty {
            return configurationFailure("invalid URL")
        }
        if request.method.isEmpty || request.method.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            return configurationFailure("invalid HTTP method")
        }
        for header in request.headers {
            let nameIsValid =
                !header.name.isEmpty
                && !header.name.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: ":") })
            if !nameIsValid || containsLineBreak(header.value) {
                return configurationFailure("invalid header")
            }
        }
        return nil
    }

    private static func validate(_ message: MailMessage) -> TransportFailure? {
        if containsLineBreak(message.relayURL) || message.relayURL.isEmpty {
            return configurationFailure("invalid relay URL")
        }
        if message.envelopeTo.isEmpty {
            return configurationFailure("no envelope recipients")
        }
        for address in [message.envelopeFrom] + message.envelopeTo where containsLineBreak(address) {
            return configurationFailure("envelope address contains CR, LF or NUL")
        }
        for address in message.envelopeTo where address.isEmpty {
            return configurationFailure("empty envelope recipient")
        }
        if containsLineBreak(message.username ?? "") || containsLineBreak(message.password ?? "") {
            return configurationFailure("credentials contain CR, LF or NUL")
        }
        return nil
    }

    private static func containsLineBreak(_ text: String) -> Bool {
        text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    private static func configurationFailure(_ message: String) -> TransportFailure {
        TransportFailure(
            kind: .configuration,
            code: Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue),
            requestSent: false,
            message: message
        )
    }
}
