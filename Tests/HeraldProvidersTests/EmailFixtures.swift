import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

/// Email notifier fixtures and a small MIME reader, so tests check the message the way a mail client reads it.
enum EmailFixtures {
    static let password = "Sm7p-pa55w0rd!q9"
    static let relayURL = "smtps://smtp.example.com:465"
    static let from = "Herald Alerts <notify@herald.example>"
    static let notifier = NotifierInfo(id: 1, name: "smtp-main", channel: .email)
    static let connection = EmailConnection(url: relayURL, username: "herald", password: password, from: from)
    static let provider = EmailProvider(notifier: notifier, connection: connection)

    static let ann = Recipient(kind: .user, id: "u7", address: "ann@example.com", name: "Ann Lee")
    static let bob = Recipient(kind: .user, id: "u8", address: "bob@example.com", name: "Bob Stone")

    static func delivery(recipient: Recipient = ann, payload: Data, id: Int64 = 77) -> Delivery {
        Delivery(
            id: id,
            eventId: "evt_01JDQ4ZC7R0000000000000000",
            channel: .email,
            notifierId: 1,
            recipient: recipient,
            reason: .explicit,
            destination: relayURL,
            payload: payload,
            contentType: EmailProvider.contentType,
            state: .leased,
            attempts: 0,
            createdAt: Fixtures.occurredAt,
            windowStart: Fixtures.occurredAt,
            dueAt: Fixtures.now,
            updatedAt: Fixtures.now
        )
    }

    /// The template fixtures bundled under `Golden/templates`.
    static func bundledTemplates() throws -> TemplateLibrary {
        let golden = try #require(Bundle.module.url(forResource: "Golden", withExtension: nil))
        return try TemplateLibrary(directory: golden.appendingPathComponent("templates"))
    }
}

/// A parsed RFC 5322 message with a `multipart/alternative` body.
struct ParsedMail {
    struct Part {
        var headers: [(name: String, value: String)]
        var text: String

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    var headers: [(name: String, value: String)]
    var preamble: String
    var parts: [Part]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    func headers(named name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    var textPart: Part? { parts.first { $0.header("Content-Type")?.hasPrefix("text/plain") == true } }
    var htmlPart: Part? { parts.first { $0.header("Content-Type")?.hasPrefix("text/html") == true } }

    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String {
            switch self {
            case .malformed(let what): "malformed message: \(what)"
            }
        }
    }

    /// Parses `data`; every structural problem throws.
    init(_ data: Data) throws {
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure.malformed("no blank line after headers") }
        headers = try ParsedMail.parseHeaders(String(text[..<split.lowerBound]))
        let body = String(text[split.upperBound...])

        guard let contentType = headers.first(where: { $0.name.lowercased() == "content-type" })?.value,
            contentType.hasPrefix("multipart/alternative"),
            let boundaryStart = contentType.range(of: "boundary=\"")
        else { throw Failure.malformed("no multipart/alternative boundary") }
        let boundary = String(contentType[boundaryStart.upperBound...].prefix(while: { $0 != "\"" }))
        guard (1...70).contains(boundary.count) else { throw Failure.malformed("boundary length") }

        // Every delimiter line is preceded by a CRLF that belongs to it (RFC 2046 §5.1.1); the one before
        // the first delimiter is implied when there is no preamble.
        let delimiter = "\r\n--" + boundary
        let framed = "\r\n" + body
        guard let closing = framed.range(of: delimiter + "--\r\n") else {
            throw Failure.malformed("no closing delimiter")
        }
        var chunks = String(framed[..<closing.lowerBound]).components(separatedBy: delimiter + "\r\n")
        guard chunks.count >= 2 else { throw Failure.malformed("no part") }
        preamble = chunks.removeFirst()
        parts = try chunks.map { chunk in
            guard let end = chunk.range(of: "\r\n\r\n") else { throw Failure.malformed("part without headers") }
            let partHeaders = try ParsedMail.parseHeaders(String(chunk[..<end.lowerBound]))
            let encoded = String(chunk[end.upperBound...])
            let encoding = partHeaders.first { $0.name.lowercased() == "content-transfer-encoding" }?.value
            guard encoding?.lowercased() == "quoted-printable" else {
                throw Failure.malformed("encoding \(encoding ?? "-")")
            }
            guard let decoded = String(data: try ParsedMail.decodeQuotedPrintable(encoded), encoding: .utf8) else {
                throw Failure.malformed("part is not UTF-8")
            }
            // Hard line breaks are CRLF on the wire; compare text the way a client shows it.
            return Part(headers: partHeaders, text: decoded.replacingOccurrences(of: "\r\n", with: "\n"))
        }
    }

    static func parseHeaders(_ text: String) throws -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for line in text.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                guard !result.isEmpty else { throw Failure.malformed("continuation before any header") }
                result[result.count - 1].value += line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw Failure.malformed("header line without colon") }
            let name = String(line[..<colon])
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw Failure.malformed("header name \(name)")
            }
            result.append((name, String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
        }
        return result
    }

    static func decodeQuotedPrintable(_ text: String) throws -> Data {
        var bytes: [UInt8] = []
        let input = Array(text.utf8)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "=") {
                if index + 2 < input.count, input[index + 1] == 0x0D, input[index + 2] == 0x0A {
                    index += 3
                    continue
                }
                guard index + 2 < input.count,
                    let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
                else { throw Failure.malformed("bad = escape") }
                bytes.append(value)
                index += 3
            } else {
                guard byte < 0x80 else { throw Failure.malformed("raw 8-bit byte in quoted-printable") }
                bytes.append(byte)
                index += 1
            }
        }
        return Data(bytes)
    }

    /// Decodes RFC 2047 `=?UTF-8?B?…?=` words; whitespace between adjacent encoded words is dropped.
    static func decodeEncodedWords(_ value: String) -> String {
        let words = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var output = ""
        var pending: [UInt8] = []
        var previousWasEncoded = false
        for word in words {
            if word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="),
                let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
            {
                if !previousWasEncoded && !output.isEmpty { output += " " }
                pending += Array(data)
                previousWasEncoded = true
                continue
            }
            if previousWasEncoded {
                output += String(decoding: pending, as: UTF8.self)
                pending = []
                previousWasEncoded = false
            }
            output += (output.isEmpty ? "" : " ") + word
        }
        output += String(decoding: pending, as: UTF8.self)
        return output
    }
}

/// Every line of `data`: each must end in CRLF (throws on a bare CR or LF).
func crlfLines(_ data: Data) throws -> [[UInt8]] {
    var lines: [[UInt8]] = []
    var current: [UInt8] = []
    var index = data.startIndex
    while index < data.endIndex {
        let byte = data[index]
        if byte == 0x0D {
            let next = data.index(after: index)
            guard next < data.endIndex, data[next] == 0x0A else { throw ParsedMail.Failure.malformed("bare CR") }
            lines.append(current)
            current = []
            index = data.index(after: next)
            continue
        }
        guard byte != 0x0A else { throw ParsedMail.Failure.malformed("bare LF") }
        current.append(byte)
        index = data.index(after: index)
    }
    guard current.isEmpty else { throw ParsedMail.Failure.malformed("last line without CRLF") }
    return lines
}
