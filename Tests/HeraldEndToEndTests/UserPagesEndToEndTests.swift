import Foundation
import HeraldTesting
import Testing

/// One-click unsubscribe and the preference center with the real processes: the links come out of an email that
/// `herald serve` delivered to a local SMTP sink, and work against the same daemon.
@Suite("Herald's own pages, end to end", .serialized)
struct UserPagesEndToEndTests {
    @Test(.timeLimit(.minutes(2)))
    func theDeliveredEmailsUnsubscribeLinkFlipsTheMatrix() async throws {
        let fixture = try await UserPagesFixture.start()
        let mail = try await fixture.deliverEmail(id: "pay-1")
        // RFC 2369 + RFC 8058: Herald's own signed link, and the one-click marker.
        let header = try #require(mail.header("List-Unsubscribe"), "\(mail.headers)")
        #expect(header.hasPrefix("<\(fixture.publicURL)/u/") && header.hasSuffix(">"), "\(header)")
        #expect(mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
        let unsubscribe = String(header.dropFirst().dropLast())
        #expect(mail.url(after: "Unsubscribe: ") == unsubscribe, "the text part links it too")
        // No links.settingsURL: the settings link is u1's signed preference center.
        let settings = try #require(mail.url(after: "Notification settings: "))
        #expect(settings.hasPrefix("\(fixture.publicURL)/preferences?token="), "\(settings)")
        #expect(!mail.decodedBody.contains(UserPagesFixture.linkSecret))

        #expect(try await fixture.matrix()["payout_processed"]?["email"] as? Bool == true)
        let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: fixture.port)
        // What a mail provider does when the recipient presses its unsubscribe button.
        let posted = try await client.send(
            "POST",
            try fixture.path(of: unsubscribe),
            headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Data("List-Unsubscribe=One-Click".utf8)
        )
        #expect(posted.status == 200, "\(String(decoding: posted.body, as: UTF8.self))")
        let row = try #require(try await fixture.matrix()["payout_processed"])
        #expect(row["email"] as? Bool == false && row["customized"] as? Bool == true, "\(row)")
        #expect(try await fixture.matrix()["note"]?["customized"] as? Bool == false, "other keys untouched")

        // An altered link changes nothing and says so.
        let altered = try fixture.path(of: unsubscribe).replacingOccurrences(of: "/u/", with: "/u/x")
        let refused = try await client.send(
            "POST",
            altered,
            headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Data("List-Unsubscribe=One-Click".utf8)
        )
        #expect(refused.status == 400)

        let page = try await client.send("GET", try fixture.path(of: settings))
        #expect(page.status == 200)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("Notification settings") && html.contains("A payout was processed"))
        #expect(html.contains("Customized</span>"), "the unsubscribed row is marked")
        await client.close()

        // The next payout reaches u1 on no channel: the never row is in force.
        let accepted = try await fixture.env.enqueueAccepted(
            Data(
                (#"{"id": "pay-2", "key": "payout_processed", "organization": "acme", "#
                    + #""data": {"title": "Payout sent"}, "recipients": [{"user": "u1"}]}"# + "\n").utf8
            )
        )
        #expect(accepted == ["pay-2"])
        try await fixture.env.waitForStatus("pay-2 fanned out", timeout: .seconds(30)) { $0.events["fannedOut"] == 2 }
        #expect(fixture.smtp.messages().count == 1, "no second email after the unsubscribe")
        // Neither the key nor a link's token (a credential) reaches the daemon's output.
        let output = fixture.env.allDaemonOutput()
        let token = String(unsubscribe.split(separator: "/").last ?? "")
        let preferenceToken = String(settings.split(separator: "=").last ?? "")
        #expect(token.count > 40 && preferenceToken.count > 40)
        for secret in [UserPagesFixture.linkSecret, token, preferenceToken] {
            #expect(!output.contains(secret), "the daemon printed a secret or a link token")
        }
        try await fixture.shutdown()
    }
}
