import HeraldCore
import Testing

@Suite("Redaction")
struct RedactionTests {
    @Test func webhookURLsKeepOnlySchemeAndHost() {
        #expect(
            Redaction.redactedURL("https://hooks.slack.com/services/T000/B000/XXXXSECRET")
                == "https://hooks.slack.com/…"
        )
        #expect(Redaction.redactedURL("https://user:pass@example.com/hook?sig=abc") == "https://example.com/…")
        #expect(Redaction.redactedAddress("C0123456789") == "C0123456789")
    }

    @Test func scrubRemovesEverySecret() {
        let text = Redaction.scrub("token xoxb-123-SECRET at xoxb-123-SECRET", secrets: ["xoxb-123-SECRET"])
        #expect(text == "token [REDACTED] at [REDACTED]")
    }
}
