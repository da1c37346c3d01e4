import Foundation
import HeraldCore
import Testing

/// SPEC §3.1 and §5.2 as tables: `herald import` (and every directory body) takes exactly the documented shape.
@Suite("Directory import strictness")
struct DirectoryStrictnessTests {
    static let notifiers: [Int: Channel] = [1: .email, 2: .slack, 3: .pagerduty, 5: .sms]

    static func refusal(_ json: String, existing: DirectoryDocument = DirectoryDocument()) -> [FieldError] {
        do {
            _ = try DirectoryDocument.parse(
                Data(json.utf8),
                catalog: Catalog(),
                existing: existing,
                notifiers: notifiers
            )
            return []
        } catch {
            return error.details
        }
    }

    static let org = #""organizations":[{"id":"acme","slug":"acme","name":"Acme"}]"#
    static func project(_ body: String) -> String {
        #"{\#(org),"projects":[{"id":"p1","organization":"acme","slug":"backend",\#(body)}]}"#
    }

    static let cases: [(String, String, String?)] = [
        (
            #"{"users":[{"id":"u1","organization":"acme","phnoe":"+15550000001"}]}"#, "users[0].phnoe",
            "is not a known field"
        ),
        (#"{"orgs":[]}"#, "orgs", "is not a known field"),
        (#"{\#(org),"teams":[{"id":"t1","organization":"acme","slug":"x","member":["u1"]}]}"#, "teams[0].member", nil),
        (
            project(#""routes":[{"id":"r","channel":"slack","target":"C0000000100","fliter":{}}]"#),
            "projects[0].routes[0].fliter", nil
        ),
        (
            project(#""routes":[{"id":"r","channel":"slack","target":"C0000000100","filter":{"key":["note"]}}]"#),
            "projects[0].routes[0].filter.key", nil
        ),
        (project(#""settings":{"otpCodeLength":5.5}"#), "projects[0].settings.otpCodeLength", "must be a whole number"),
        (
            project(#""settings":{"otpCodeLength":123456789012345678901234567890}"#),
            "projects[0].settings.otpCodeLength", "must be between 4 and 10"
        ),
        (project(#""settings":{"otpTtlSeconds":-1}"#), "projects[0].settings.otpTtlSeconds", nil),
        (project(#""settings":{"otpTtl":60}"#), "projects[0].settings.otpTtl", nil),
        (
            project(#""settings":{"emailNotifier":99}"#), "projects[0].settings.emailNotifier",
            "no notifier 99 is configured"
        ),
        (
            project(#""settings":{"smsNotifier":1}"#), "projects[0].settings.smsNotifier",
            "notifier 1 is a email notifier, not sms"
        ),
        (project(#""settings":{"emailNotifier":"1"}"#), "projects[0].settings.emailNotifier", nil),
        (
            project(
                #""routes":[{"id":"r","channel":"pagerduty","notifier":2,"target":"0123456789abcdef0123456789abcdef"}]"#
            ), "projects[0].routes[0].notifier", "notifier 2 is a slack notifier, not pagerduty"
        ),
        (
            project(
                #""routes":[{"id":"r","channel":"pagerduty","notifier":7,"target":"0123456789abcdef0123456789abcdef"}]"#
            ), "projects[0].routes[0].notifier", nil
        ),
        (#"{"users":[{"id":"u1\u0000","organization":"acme"}]}"#, "users[0].id", nil),
        (#"{"users":[{"id":"caf\u00e9","organization":"acme"}]}"#, "users[0].id", nil),
        (#"{"users":[{"id":"cafe\u0301","organization":"acme"}]}"#, "users[0].id", nil),
        (#"{"users":[{"id":"","organization":"acme"}]}"#, "users[0].id", nil),
        (#"{"users":[{"id":"a b","organization":"acme"}]}"#, "users[0].id", nil),
        (#"{\#(org),"teams":[{"id":"t1","organization":"acme","slug":"back end"}]}"#, "teams[0].slug", nil),
        (
            #"{"subscriptions":[{"issue":"90\n01","project":"p1","user":"u1","reason":"bookmark"}]}"#,
            "subscriptions[0].issue", nil
        ),
        (
            #"{"users":[{"id":"u1","organization":"acme","lastActiveAt":"2026-11-31T00:00:00Z"}]}"#,
            "users[0].lastActiveAt", nil
        ),
        (
            #"{"users":[{"id":"u1","organization":"acme","msteamsWebhook":"https://x.test/\u0085"}]}"#,
            "users[0].msteamsWebhook", nil
        ),
        (#"{"users":[{"id":"u1","organization":"acme","email":"a\r\n@b.test"}]}"#, "users[0].email", nil),
        (#"{"users":[{"id":"u1","id":"u2","organization":"acme"}]}"#, "users[0]", "duplicate key \"id\""),
        (
            #"{"users":[{"id":"u1","organization":"acme","isActive":1e999}]}"#, "users[0].isActive",
            "is a number out of range"
        ),
        (
            #"{"preferences":[{"user":"u1","scope":"user","scopeId":"u1","subject":"workflow","value":"always","chanel":"email"}]}"#,
            "preferences[0].chanel", nil
        ),
    ]

    @Test("every refusal names the entry and the field", arguments: cases)
    func refusals(_ json: String, field: String, message: String?) {
        let problems = Self.refusal(json)
        let named = problems.first { $0.field == field }
        #expect(named != nil, "\(problems)")
        if let message { #expect(named?.message.contains(message) == true, "\(problems)") }
        for problem in problems {
            #expect(!problem.message.contains("not valid JSON"), "\(problem)")
            #expect((problem.field + problem.message).unicodeScalars.allSatisfy { !Printable.needsEscape($0) })
        }
    }

    @Test("invalid UTF-8 in an import file is refused, never replaced")
    func invalidUTF8() {
        var bytes = Array(#"{"users":[{"id":"u1","organization":"acme","name":"x"#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#""}]}"#.utf8)
        do {
            _ = try DirectoryDocument.parse(Data(bytes), catalog: Catalog())
            Issue.record("accepted")
        } catch {
            #expect(error.details.first?.field == "users[0].name")
            #expect(error.details.first?.message.contains("UTF-8") == true)
        }
    }

    @Test("an id that differs only by NUL or normalization never replaces a stored user")
    func lookalikeIdsNeverMerge() throws {
        let stored = try DirectoryDocument.parse(
            Data(
                #"{\#(Self.org),"users":[{"id":"u1","organization":"acme","email":"u1@acme.test","phone":"+15550000001"}]}"#
                    .utf8
            ),
            catalog: Catalog()
        )
        for id in [#"u1\u0000"#, #"u1\u0085"#, #"caf\u00e9"#, #"cafe\u0301"#] {
            let problems = Self.refusal(#"{"users":[{"id":"\#(id)","organization":"acme"}]}"#, existing: stored)
            #expect(problems.map(\.field) == ["users[0].id"], "\(id): \(problems)")
        }
    }

    @Test("the specification's example passes with its notifiers configured")
    func specExample() throws {
        _ = try DirectoryDocument.parse(
            Data(DirectoryDocumentTests.specExample.utf8),
            catalog: Catalog(),
            existing: DirectoryDocument(),
            notifiers: Self.notifiers
        )
    }
}
