import Foundation
import HeraldTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `herald serve` with its API and Herald's own pages on a known free port (`links.publicURL` must name it
/// before the daemon starts), email delivered to a local SMTP sink, and one directory user, `u1`.
final class UserPagesFixture {
    static let linkSecret = "e2e-link-SECRET-0123456789abcdef0123456789"

    let smtp: FakeSMTPServer
    let env: HeraldEnvironment
    let port: Int
    private(set) var daemon: DaemonProcess!

    var publicURL: String { "http://127.0.0.1:\(port)" }

    private init(smtp: FakeSMTPServer, env: HeraldEnvironment, port: Int) {
        self.smtp = smtp
        self.env = env
        self.port = port
    }

    static func start() async throws -> UserPagesFixture {
        let smtp = try await FakeSMTPServer.start()
        let env = try HeraldEnvironment()
        let fixture = UserPagesFixture(smtp: smtp, env: env, port: try freePort())
        do {
            try env.writeSecret("link-secret", linkSecret)
            try env.writeConfig(yaml: fixture.configuration)
            let directory = """
                {"organizations": [{"id": "acme", "slug": "acme", "name": "Acme Inc."}],
                 "users": [{"id": "u1", "organization": "acme", "name": "Ann Lee", "email": "ann@acme.test",
                            "emailVerified": true, "slackId": "U0000000001", "isActive": true}]}
                """
            try await env.importDirectory(Data(directory.utf8))
            fixture.daemon = try await env.startDaemon()
            return fixture
        } catch {
            fixture.close()
            try? await smtp.shutdown()
            throw error
        }
    }

    func close() { env.close() }

    func shutdown() async throws {
        close()
        try await smtp.shutdown()
    }

    var configuration: String {
        """
        server:
          listen: "127.0.0.1:\(port)"
        store:
          sqlite:
            path: "var/herald.db"
        log:
          level: info
          format: logfmt
        links:
          publicURL: "\(publicURL)"
        auth:
          tokens:
            - name: e2e
              sha256: "55cdad286db1bc0c9be20d9c32c17219d86c3ed03258cf651dc66e0aae60220b"
              scopes: ["admin"]
          linkSecretFile: "secrets/link-secret"
        defaults:
          email: 1
        notifiers:
          - id: 1
            name: smtp-local
            channel: email
            email:
              url: "smtp://127.0.0.1:\(smtp.port)"
              allowInsecure: true
              from: "Herald <notify@example.com>"
            rateLimit: { perSecond: 0 }
        catalog:
          - key: payout_processed
            type: payments
            description: "A payout was processed"
            defaults: { email: true, slack: false, msteams: false, sms: false, webhook: false }
            critical: false

        """
    }

    /// Enqueues one `payout_processed` event for u1 and waits for its email at the sink.
    func deliverEmail(id: String) async throws -> DeliveredMail {
        let event = """
            {"id": "\(id)", "key": "payout_processed", "organization": "acme",
             "data": {"title": "Payout sent", "text": "42.00 EUR"}, "recipients": [{"user": "u1"}]}
            """
        let accepted = try await env.enqueueAccepted(Data((event.replacingOccurrences(of: "\n", with: "") + "\n").utf8))
        guard accepted == [id] else { throw HarnessError("herald enqueue accepted \(accepted), expected [\(id)]") }
        var found: DeliveredMail?
        try await eventually("the email of \(id) at the SMTP sink", timeout: .seconds(30)) {
            found = smtp.messages().map(DeliveredMail.init).first { $0.header("X-Herald-Event-Id") == id }
            return found != nil
        }
        return found!
    }

    /// `GET /api/v1/notifications/preferences?user=u1` with the admin token: u1's matrix by key.
    func matrix() async throws -> [String: [String: Any]] {
        let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
        defer { Task { await client.close() } }
        let response = try await client.send(
            "GET",
            "/api/v1/notifications/preferences?user=u1",
            headers: [("Authorization", "Bearer \(HeraldConfig.apiToken)")]
        )
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let rows = object["data"] as? [[String: Any]]
        else {
            throw HarnessError(
                "the matrix read failed: \(response.status) \(String(decoding: response.body, as: UTF8.self))"
            )
        }
        var byKey: [String: [String: Any]] = [:]
        for row in rows { if let key = row["eventKey"] as? String { byKey[key] = row } }
        return byKey
    }

    /// The path and query of a URL on this daemon (`http://127.0.0.1:PORT/...` → `/...`).
    func path(of url: String) throws -> String {
        guard url.hasPrefix(publicURL + "/") else { throw HarnessError("\(url) is not on \(publicURL)") }
        return String(url.dropFirst(publicURL.count))
    }

    /// A TCP port nobody listens on now (bound to 0 and released; the daemon binds it right after).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw HarnessError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// One email received by the sink: unfolded headers and the decoded text part.
struct DeliveredMail {
    let headers: [(name: String, value: String)]
    /// Every body part, quoted-printable decoded.
    let decodedBody: String

    init(_ mail: ReceivedMail) {
        let text = mail.text
        let split = text.range(of: "\r\n\r\n")
        let head = split.map { String(text[..<$0.lowerBound]) } ?? text
        var fields: [(name: String, value: String)] = []
        for line in head.components(separatedBy: "\r\n") {
            if line.first == " " || line.first == "\t", let last = fields.popLast() {
                fields.append((last.name, last.value + line.trimmingCharacters(in: .whitespaces)))
            } else if let colon = line.firstIndex(of: ":") {
                fields.append(
                    (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                )
            }
        }
        headers = fields
        decodedBody = Self.decodeQuotedPrintable(split.map { String(text[$0.upperBound...]) } ?? "")
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The first URL in the body after `label` (e.g. `Notification settings: `).
    func url(after label: String) -> String? {
        guard let range = decodedBody.range(of: label) else { return nil }
        return String(decodedBody[range.upperBound...].prefix { !$0.isWhitespace && $0 != "<" && $0 != "\"" })
    }

    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(text.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "="), index + 2 < input.count,
                let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
