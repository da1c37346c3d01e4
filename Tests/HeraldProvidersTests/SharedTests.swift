import Foundation
import HeraldCore
import Testing

@testable import HeraldProviders

@Suite("Shared rendering helpers")
struct SharedTests {
    @Test("Truncation counts Unicode scalars and marks the cut")
    func truncation() {
        #expect(Truncation.truncate("hello", limit: 5) == TruncatedText(text: "hello", wasTruncated: false))
        #expect(Truncation.truncate("hello world", limit: 8) == TruncatedText(text: "hello w…", wasTruncated: true))
        #expect(Truncation.truncate("abcdefgh", limit: 5) == TruncatedText(text: "abcd…", wasTruncated: true))
        // "é" as e + combining accent is two scalars and one character: never split.
        let cut = Truncation.truncate("ae\u{301}e\u{301}e\u{301}", limit: 5)
        #expect(cut.text == "ae\u{301}…")
        #expect(cut.text.unicodeScalars.count == 4)
        let bytes = Truncation.truncate("ééééé", limit: 7, unit: .utf8Bytes)
        #expect(bytes.text == "éé…")
        #expect(bytes.text.utf8.count <= 7)
    }

    @Test("Escaping transforms are never split")
    func escapedTruncation() {
        let cut = Truncation.truncate("a&&&&", limit: 10, transform: SlackMrkdwn.escape)
        #expect(cut.text == "a&amp;…")
    }

    @Test(
        "Built-in wording",
        arguments: [
            ("assigned", "Jane Doe assigned BACKEND-1A to Ann Lee"),
            ("unassigned", "Jane Doe unassigned BACKEND-1A"),
            ("resolved", "Jane Doe resolved BACKEND-1A"),
            ("resolved_in_release", "Jane Doe resolved BACKEND-1A in 2.4.0"),
            ("resolved_in_commit", "Jane Doe resolved BACKEND-1A in commit 3f2a9c81d4e5"),
            ("resolved_in_pull_request", "Jane Doe resolved BACKEND-1A in pull request #482"),
            ("resolved_by_age", "BACKEND-1A was resolved automatically after 30 days without new events"),
            ("unresolved", "Jane Doe marked BACKEND-1A as unresolved"),
            ("archived", "Jane Doe archived BACKEND-1A until 2026-12-01T00:00:00Z"),
            ("regression", "BACKEND-1A regressed in 2.4.1 after being resolved"),
            ("escalating", "BACKEND-1A is escalating: more events than its forecast of 120"),
            ("note", "Jane Doe commented on BACKEND-1A"),
            ("external_issue_created", "Jane Doe created Jira issue OPS-311 for BACKEND-1A"),
            ("deploy", "Jane Doe deployed 2.4.0 to production"),
            ("issue_alert", "Alert rule “High error rate” fired for BACKEND-1A"),
        ]
    )
    func wording(key: String, summary: String) {
        let content = NeutralContent(Fixtures.input(key, recipient: Fixtures.slackUser))
        #expect(content.summary == summary)
        #expect(content.settingsURL == "https://tracker.example/settings/notifications/\(key)")
        #expect(content.reasonLine.hasPrefix("You are receiving this because "))
        #expect(content.projectName == "Backend")
    }

    @Test("System activity reads in the passive voice")
    func passive() {
        var input = Fixtures.input("resolved_in_release", recipient: Fixtures.slackUser)
        input.event.actor = nil
        #expect(NeutralContent(input).summary == "BACKEND-1A was resolved in 2.4.0")
    }

    @Test("Key data becomes facts")
    func facts() {
        let commit = NeutralContent(Fixtures.input("resolved_in_commit", recipient: Fixtures.slackUser))
        #expect(commit.facts.first?.url?.hasPrefix("https://git.example/") == true)
        #expect(commit.body?.hasPrefix("Fix undefined x") == true)
        let deploy = NeutralContent(Fixtures.input("deploy", recipient: Fixtures.slackUser))
        #expect(deploy.environment == "production")
        #expect(deploy.facts.contains(.init(label: "Environment", value: "production")))
        #expect(deploy.facts.contains(.init(label: "Commits", value: "2")))
        let escalating = NeutralContent(Fixtures.input("escalating", recipient: Fixtures.slackUser))
        #expect(escalating.facts.contains(.init(label: "Forecast", value: "120")))
    }

    @Test("Untemplated custom keys use data.title, data.text and data.url, else the catalog description")
    func custom() {
        let payout = NeutralContent(Fixtures.input("payout_processed", recipient: Fixtures.slackUser))
        #expect(payout.title == "Payout of $1,250.00 processed")
        #expect(payout.body?.hasPrefix("Your payout") == true)
        #expect(payout.url == "https://market.example/payouts/po_8812")
        #expect(payout.summary == nil)
        let bare = NeutralContent(Fixtures.input("new_message_creator", recipient: Fixtures.slackUser))
        #expect(bare.title == "A creator sent you a message")
        #expect(bare.body == nil && bare.url == nil)
    }

    @Test(
        "Reason lines",
        arguments: [
            ("assigned", "You are receiving this because you were assigned to this issue."),
            ("statusChange", "You are receiving this because you changed the status of this issue."),
            ("status_change", "You are receiving this because you changed the status of this issue."),
            ("teamMentioned", "You are receiving this because a team you belong to was mentioned on this issue."),
            (
                "deploySetting",
                "You are receiving this because you chose to hear about every deploy in this organization."
            ),
            ("something_else", "You are receiving this because you are subscribed to this issue."),
        ]
    )
    func reasons(raw: String, line: String) {
        #expect(ReasonSentence.text(for: DeliveryReason(raw), issueScoped: true) == line)
    }

    @Test("Error details: URLs cut to their host, tokens and secrets masked, one short line")
    func errorDetail() {
        let text =
            "failed\nfor https://hooks.example.com/a/b?c=d with xoxb-123-456 and hunter22 "
            + String(repeating: "x", count: 400)
        let detail = ErrorDetail.sanitize(text, secrets: ["hunter22"])
        #expect(detail.hasPrefix("failed for https://hooks.example.com/… with [REDACTED] and [REDACTED] x"))
        #expect(detail.count <= 200)
        #expect(detail.hasSuffix("…"))
        #expect(ErrorDetail.sanitize("Cannot POST /a/secret", maskPaths: true) == "Cannot POST [path]")
    }
}
