import Crypto
import Foundation
import HeraldCore

/// One notification email as an RFC 5322 message: headers, then `multipart/alternative` with a text and an
/// HTML part, both UTF-8 in quoted-printable, every line ending in CRLF (SPEC §9, providers.md §5.4).
///
/// Everything is derived from the input: the `Date` is the event's time, and the `Message-ID` and MIME
/// boundary are hashes of the event id, channel and recipient, so rendering is pure, golden files are
/// stable and a retried message keeps its `Message-ID` (receivers and relays can drop the duplicate).
struct EmailMessage: Sendable {
    /// The longest subject kept, in Unicode scalars; mail clients show far less.
    static let subjectLimit = 250

    var headers: [MailHeader]
    var boundary: String
    var body: EmailBody

    /// The message as wire bytes.
    var data: Data {
        var text = headers.map(\.wireText).joined()
        text += "\r\n"
        text += "This is a multi-part message in MIME format.\r\n"
        for (type, content) in [("text/plain", body.text), ("text/html", body.html)] {
            text += "--\(boundary)\r\n"
            text += "Content-Type: \(type); charset=UTF-8\r\n"
            text += "Content-Transfer-Encoding: quoted-printable\r\n"
            text += "\r\n"
            text += QuotedPrintable.encode(content) + "\r\n"
        }
        text += "--\(boundary)--\r\n"
        return Data(text.utf8)
    }

    /// The `<…@domain>` id of the message for `eventId` to `recipientAddress`: a SHA-256 of both and the
    /// channel, in the domain of the sender (`herald.local` when it has none usable).
    static func messageID(eventId: String, recipientAddress: String, from: EmailAddress) -> String {
        let domain = from.messageIDDomain ?? "herald.local"
        return "<\(digest(eventId: eventId, recipientAddress: recipientAddress).prefix(32))@\(domain)>"
    }

    /// A boundary that cannot occur in the parts: `=_` never appears in quoted-printable output.
    static func boundary(eventId: String, recipientAddress: String) -> String {
        "=_herald_" + digest(eventId: eventId, recipientAddress: recipientAddress).suffix(24)
    }

    /// The unfolded value of the first header `name` in the header section of `message`, if present.
    static func headerValue(_ name: String, in message: Data) -> String? {
        // Scans the header block line by line over the bytes: called for every delivered email, so it must
        // not decode or split the whole message.
        let wanted = Array(name.lowercased().utf8) + [UInt8(ascii: ":")]
        return message.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> String? in
            func lower(_ byte: UInt8) -> UInt8 {
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
            }
            func lineEnd(from start: Int) -> Int {
                var index = start
                while index + 1 < bytes.count, !(bytes[index] == 0x0D && bytes[index + 1] == 0x0A) { index += 1 }
                return index + 1 < bytes.count ? index : bytes.count
            }
            var start = 0
            while start < bytes.count {
                let end = lineEnd(from: start)
                if end == start { return nil }  // The blank line: end of the headers.
                let matches =
                    end - start >= wanted.count
                    && wanted.indices.allSatisfy { lower(bytes[start + $0]) == wanted[$0] }
                if matches {
                    var value = String(
                        decoding: UnsafeRawBufferPointer(rebasing: bytes[(start + wanted.count)..<end]),
                        as: UTF8.self
                    )
                    // Folded continuation lines start with a space or a tab.
                    var next = end + 2
                    while next < bytes.count, bytes[next] == 0x20 || bytes[next] == 0x09 {
                        let continuationEnd = lineEnd(from: next)
                        value += String(
                            decoding: UnsafeRawBufferPointer(rebasing: bytes[next..<continuationEnd]),
                            as: UTF8.self
                        )
                        next = continuationEnd + 2
                    }
                    return value.trimmingCharacters(in: .whitespaces)
                }
                start = end + 2
            }
            return nil
        }
    }

    private static func digest(eventId: String, recipientAddress: String) -> String {
        let input = ["herald-email", eventId, Channel.email.rawValue, recipientAddress.lowercased()]
            .joined(separator: "\u{0}")
        return SHA256.hash(data: Data(input.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }
        .joined()
    }
}

/// Renders `EmailMessage`s for one notifier. Pure.
struct EmailRenderer: Sendable {
    var from: EmailAddress

    /// The message for `input`, with what had to be cut or left out.
    func render(_ content: NeutralContent, input: RenderInput) -> (message: EmailMessage, truncations: [String]) {
        var truncations: [String] = []
        let recipient = input.recipient.address
        let eventId = input.event.id
        var headers: [MailHeader] = [
            .structured("Date", MailHeader.date(input.event.occurredAt)),
            .mailbox("From", from),
            .structured("To", MailHeader.clean(recipient)),
        ]

        let prefix = MailHeader.clean(input.context.subjectPrefix)
        let subject = Truncation.truncate(
            MailHeader.clean(prefix.isEmpty ? content.title : prefix + " " + content.title),
            limit: EmailMessage.subjectLimit
        )
        if subject.wasTruncated { truncations.append("email subject cut to \(EmailMessage.subjectLimit) characters") }
        headers.append(.text("Subject", subject.text))
        headers.append(
            .structured(
                "Message-ID",
                EmailMessage.messageID(eventId: eventId, recipientAddress: recipient, from: from)
            )
        )
        headers.append(.structured("MIME-Version", "1.0"))
        // RFC 3834: keeps vacation responders and auto-replies away from notifications.
        headers.append(.structured("Auto-Submitted", "auto-generated"))
        // RFC 8058: Herald's own signed link, which takes the one-click POST. Its scheme is checked at
        // configuration (https, or this machine for local runs); a settings page elsewhere is not an unsubscribe
        // endpoint, so without Herald's link there is no List-Unsubscribe.
        if let unsubscribe = EmailBody.safeLink(content.unsubscribeURL) {
            if unsubscribe.utf8.count <= 900 {
                headers.append(.structured("List-Unsubscribe", "<\(unsubscribe)>"))
                headers.append(.structured("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
            } else {
                truncations.append("email List-Unsubscribe left out: the unsubscribe URL is longer than 900 bytes")
            }
        }
        headers.append(.structured("X-Herald-Event-Id", EmailRenderer.token(eventId)))
        let boundary = EmailMessage.boundary(eventId: eventId, recipientAddress: recipient)
        headers.append(.structured("Content-Type", "multipart/alternative; boundary=\"\(boundary)\""))
        return (EmailMessage(headers: headers, boundary: boundary, body: EmailBody(content)), truncations)
    }

    /// A header token from data: printable ASCII without spaces, at most 200 bytes.
    static func token(_ value: String) -> String {
        let scalars = value.unicodeScalars.map { $0.value > 0x20 && $0.value < 0x7F ? Character($0) : "?" }
        return String(String(scalars).prefix(200))
    }
}
