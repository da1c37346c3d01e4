import Foundation
import HeraldCore
import Testing

/// SPEC §3.1 and §3.2 as tables: intake takes exactly what it documents and names the field of every refusal.
@Suite("Intake strictness")
struct IntakeStrictnessTests {
    static let intake = EventIntake(
        catalog: Catalog(custom: [
            CatalogEntry(
                key: "payout",
                type: NotificationType("payments"),
                description: "Payout",
                defaults: [.email: true]
            )
        ]),
        notifiers: [1: .email, 2: .slack, 5: .sms]
    )
    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    static let issue = #"{"id":"9001","shortId":"BACKEND-1A","title":"TypeError"}"#

    /// An event of `key` with `data` (JSON text) on the standard issue.
    static func event(_ key: String, data: String, extra: String = "") -> String {
        #"{"key":"\#(key)","organization":"acme","project":"backend","issue":\#(issue),"data":\#(data)\#(extra)}"#
    }

    static func outcome(_ text: String) -> Result<[NewEvent], ValidationFailure> {
        Result { () throws(ValidationFailure) -> [NewEvent] in try intake.parseDocument(Data(text.utf8), now: now) }
    }

    static func fields(_ text: String) -> [String] {
        guard case .failure(let failure) = outcome(text) else { return [] }
        return failure.details.map(\.field)
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var json: String
        /// The field the first problem must name; nil when the event must be accepted.
        var field: String?
        var message: String? = nil
        var description: String { name }
    }

    static let dataCases: [Case] = [
        Case(name: "assigned without data", json: event("assigned", data: "{}"), field: "data.assignee"),
        Case(
            name: "assigned with a stray top-level organization",
            json: #"{"key":"assigned","organization":"acme"}"#,
            field: "issue"
        ),
        Case(
            name: "assignee id a number",
            json: event("assigned", data: #"{"assignee":{"id":42,"type":"user"}}"#),
            field: "data.assignee.id",
            message: "must be a string, not number"
        ),
        Case(
            name: "assignee type not user or team",
            json: event("assigned", data: #"{"assignee":{"id":"u1","type":"group"}}"#),
            field: "data.assignee.type"
        ),
        Case(
            name: "assignee unknown field",
            json: event("assigned", data: #"{"assignee":{"id":"u1","type":"user","mail":"x"}}"#),
            field: "data.assignee.mail",
            message: "is not a known field"
        ),
        Case(
            name: "assigned valid",
            json: event("assigned", data: #"{"assignee":{"id":"u1","type":"user","name":"Ann"}}"#),
            field: nil
        ),
        Case(
            name: "deploy version a number",
            json: #"{"key":"deploy","organization":"acme","data":{"version":42,"environment":"prod","deployId":"d1"}}"#,
            field: "data.version"
        ),
        Case(
            name: "deploy missing deployId",
            json: #"{"key":"deploy","organization":"acme","data":{"version":"1.0","environment":"prod"}}"#,
            field: "data.deployId",
            message: "is required"
        ),
        Case(
            name: "deploy valid without issue",
            json:
                #"{"key":"deploy","organization":"acme","data":{"version":"1.0","environment":"prod","deployId":"d1","commits":[{"authorEmail":"a@b.test"}],"projects":["backend"]}}"#,
            field: nil
        ),
        Case(
            name: "unknown fallthrough",
            json: event(
                "issue_alert",
                data: #"{"rule":{"id":"r1","name":"R"},"target":{"type":"issueOwners"},"fallthrough":"everyone"}"#
            ),
            field: "data.fallthrough"
        ),
        Case(
            name: "alert target type unknown",
            json: event("issue_alert", data: #"{"rule":{"id":"r1","name":"R"},"target":{"type":"owners"}}"#),
            field: "data.target.type"
        ),
        Case(
            name: "member target without id",
            json: event("issue_alert", data: #"{"rule":{"id":"r1","name":"R"},"target":{"type":"member"}}"#),
            field: "data.target.id"
        ),
        Case(
            name: "alert without rule",
            json: event("issue_alert", data: #"{"target":{"type":"issueOwners"}}"#),
            field: "data.rule"
        ),
        Case(
            name: "alert tags must be strings",
            json: event(
                "issue_alert",
                data: #"{"rule":{"id":"r1","name":"R"},"target":{"type":"issueOwners"},"tags":{"env":1}}"#
            ),
            field: "data.tags.env"
        ),
        Case(
            name: "alert valid",
            json: event(
                "issue_alert",
                data:
                    #"{"rule":{"id":"r1","name":"R"},"target":{"type":"team","id":"t1"},"fallthrough":"noOne","paths":["a.py"],"tags":{"env":"prod"}}"#
            ),
            field: nil
        ),
        Case(name: "note without text", json: event("note", data: "{}"), field: "data.text"),
        Case(
            name: "note mention not an identifier",
            json: event("note", data: #"{"text":"hi","mentions":["u 1"]}"#),
            field: "data.mentions[0]"
        ),
        Case(name: "resolved with data", json: event("resolved", data: #"{"why":"x"}"#), field: "data.why"),
        Case(
            name: "commit without id",
            json: event("resolved_in_commit", data: #"{"commit":{"message":"fix"}}"#),
            field: "data.commit.id"
        ),
        Case(
            name: "pull request url not http",
            json: event("resolved_in_pull_request", data: #"{"pullRequest":{"id":"7","url":"ftp://x/"}}"#),
            field: "data.pullRequest.url"
        ),
        Case(
            name: "escalating forecast fractional",
            json: event("escalating", data: #"{"forecast":2.5}"#),
            field: "data.forecast",
            message: "must be a whole number"
        ),
        Case(
            name: "escalating forecast 30 digits",
            json: event("escalating", data: #"{"forecast":123456789012345678901234567890}"#),
            field: "data.forecast"
        ),
        Case(
            name: "archived until impossible",
            json: event("archived", data: #"{"until":"2026-02-30T00:00:00Z"}"#),
            field: "data.until"
        ),
        Case(
            name: "external issue missing new",
            json: event("external_issue_created", data: #"{"provider":"jira","label":"J-1","location":"https://j/1"}"#),
            field: "data.new"
        ),
        Case(
            name: "issue-scoped key without shortId",
            json: #"{"key":"resolved","organization":"acme","issue":{"id":"9001","title":"T"}}"#,
            field: "issue.shortId"
        ),
    ]

    @Test("built-in keys' data follows the table of §3.2", arguments: dataCases)
    func builtInData(_ testCase: Case) {
        let result = Self.outcome(testCase.json)
        switch (result, testCase.field) {
        case (.success, nil): break
        case (.failure(let failure), let field?):
            #expect(failure.details.first?.field == field, "\(failure)")
            if let message = testCase.message { #expect(failure.details.first?.message == message) }
        case (.success, let field?): Issue.record("accepted; expected a refusal naming \(field)")
        case (.failure(let failure), nil): Issue.record("refused: \(failure)")
        }
    }

    static let unknownFieldCases: [Case] = [
        Case(name: "event", json: event("resolved", data: "{}", extra: #","prio":1"#), field: "prio"),
        Case(
            name: "actor",
            json: event("resolved", data: "{}", extra: #","actor":{"id":"u1","nmae":"x"}"#),
            field: "actor.nmae"
        ),
        Case(
            name: "issue",
            json: #"{"key":"resolved","organization":"acme","issue":{"id":"1","shortId":"A-1","title":"T","lvl":"x"}}"#,
            field: "issue.lvl"
        ),
        Case(
            name: "user recipient",
            json: #"{"key":"payout","organization":"acme","recipients":[{"user":"u1","channel":"email"}]}"#,
            field: "recipients[0].channel"
        ),
        Case(
            name: "address recipient",
            json:
                #"{"key":"payout","organization":"acme","recipients":[{"channel":"email","address":"a@b.test","prio":1}]}"#,
            field: "recipients[0].prio"
        ),
        Case(
            name: "user and team",
            json: #"{"key":"payout","organization":"acme","recipients":[{"user":"u1","team":"t1"}]}"#,
            field: "recipients[0].team"
        ),
        Case(
            name: "user and address",
            json: #"{"key":"payout","organization":"acme","recipients":[{"user":"u1","address":"a@b.test"}]}"#,
            field: "recipients[0].address"
        ),
        Case(
            name: "events wrapper",
            json: #"{"events":[{"key":"payout","organization":"acme","recipients":[{"user":"u1"}]}],"dryRun":true}"#,
            field: "dryRun"
        ),
        Case(
            name: "unknown notifier",
            json:
                #"{"key":"payout","organization":"acme","recipients":[{"channel":"email","address":"a@b.test","notifier":99}]}"#,
            field: "recipients[0].notifier",
            message: "no notifier 99 is configured"
        ),
        Case(
            name: "notifier of another channel",
            json:
                #"{"key":"payout","organization":"acme","recipients":[{"channel":"sms","address":"+15550000001","notifier":1}]}"#,
            field: "recipients[0].notifier",
            message: "notifier 1 is a email notifier, not sms"
        ),
        Case(
            name: "notifier of the right channel",
            json:
                #"{"key":"payout","organization":"acme","recipients":[{"channel":"sms","address":"+15550000001","notifier":5}]}"#,
            field: nil
        ),
    ]

    @Test("unknown fields and mixed recipient forms are refused at every level", arguments: unknownFieldCases)
    func unknownFields(_ testCase: Case) {
        builtInData(testCase)
    }

    static let identifierCases: [(String, Bool)] = [
        ("u1", true), ("evt_01HZX", true), ("a.b:c@d/e+f-g", true), (String(repeating: "x", count: 128), true),
        ("", false), (String(repeating: "x", count: 129), false), ("u1\u{0}", false), ("caf\u{E9}", false),
        ("cafe\u{301}", false), ("a b", false), ("tab\t", false), ("new\nline", false), ("semi;colon", false),
        ("quote\"", false), ("back\\slash", false), ("\u{85}", false), ("emoji😀", false),
    ]

    @Test("identifiers are 1–128 bytes of [A-Za-z0-9._:@/+-]", arguments: identifierCases)
    func identifiers(_ id: String, valid: Bool) throws {
        #expect((Identifier.problem(id) == nil) == valid)
        let data = try JSONValue.object(["key": .string("payout"), "organization": .string(id)]).canonicalData()
        var text = String(decoding: data, as: UTF8.self)
        text.removeLast()
        text += #","recipients":[{"user":"u1"}]}"#
        let refused = Self.fields(text)
        #expect(refused.contains("organization") == !valid, "\(refused)")
        if let problem = Identifier.problem(id) {
            #expect(problem.unicodeScalars.allSatisfy { !Printable.needsEscape($0) })
        }
    }

    static let controlCases: [String] = ["\r", "\n", "\u{0}", "\u{1B}[31m", "\u{7F}", "\u{85}", "\u{2028}"]

    @Test("refusals are one printable line whatever control bytes the input holds", arguments: controlCases)
    func printableRefusals(_ control: String) throws {
        let escapedControl = try JSONValue.string(control).canonicalData()
        let quoted = String(decoding: escapedControl, as: UTF8.self)
        let documents = [
            #"{"key":\#(quoted),"organization":"acme"}"#,
            #"{"key":"payout","organization":"acme","x\#(quoted.dropFirst().dropLast())y":1}"#,
            #"{"key":"payout","organization":"acme","recipients":[{"channel":"email","address":"a\#(quoted.dropFirst().dropLast())@b.test"}]}"#,
            #"{"key":"payout","organization":"acme","recipients":[{"channel":"webhook","address":"https://h.test/\#(quoted.dropFirst().dropLast())"}]}"#,
            #"{"key":"payout","organization":"acme","occurredAt":"2026-01-01T00:00:00Z\#(quoted.dropFirst().dropLast())"}"#,
        ]
        for document in documents {
            guard case .failure(let failure) = Self.outcome(document) else {
                Issue.record("accepted \(document)")
                continue
            }
            let line = failure.description
            #expect(line.unicodeScalars.allSatisfy { !Printable.needsEscape($0) }, "\(line.debugDescription)")
            for detail in failure.details {
                #expect((detail.field + detail.message).unicodeScalars.allSatisfy { !Printable.needsEscape($0) })
            }
        }
    }

    @Test(
        "URLs and addresses with control characters are refused",
        arguments: [
            "https://h.test/a\r\nb", "https://h.test/\u{85}", "https://h.test/\u{0}", "https://h.test/\u{2029}",
        ]
    )
    func controlCharactersInAddresses(_ url: String) {
        #expect(AddressValidator.urlProblem(url) != nil)
        #expect(AddressValidator.problem(with: url, on: .webhook) != nil)
        #expect(AddressValidator.problem(with: url, on: .msteams) != nil)
        let email = "ops" + url.dropFirst(14) + "@example.test"
        #expect(AddressValidator.problem(with: email, on: .email) != nil, "\(email.debugDescription)")
    }

    static let parserCases: [(String, String, String)] = [
        (#"{"key":"payout","key":"payout"}"#, "body", "duplicate key \"key\""),
        (#"{"key":"payout","organization":"acme","data":{"a":1,"a":2}}"#, "body.data", "duplicate key \"a\""),
        (#"[{"key":"payout","recipients":[{"user":"u1","user":"u2"}]}]"#, "body[0].recipients[0]", "duplicate key"),
        (#"{"key":"payout","data":{"n":1e400}}"#, "body.data.n", "is a number out of range"),
        (#"{"key":"payout","data":{"a":[1,2,"#, "body.data.a[2]", "is not valid JSON"),
    ]

    @Test("parser refusals say what they are and where", arguments: parserCases)
    func parserRefusals(_ json: String, field: String, message: String) {
        guard case .failure(let failure) = Self.outcome(json) else {
            Issue.record("accepted")
            return
        }
        #expect(failure.details.first?.field == field, "\(failure)")
        #expect(failure.details.first?.message.contains(message) == true, "\(failure)")
        #expect(!(failure.details.first?.message.contains("not valid JSON") ?? true) || message.contains("not valid"))
    }

    @Test("canonical bytes order keys by their bytes, so equivalent spellings never collide or reorder")
    func canonicalOrderIsByBytes() throws {
        let value = JSONValue.object(["b": .number(1), "a": .number(2), "é": .number(3), "z": .number(4)])
        let text = String(decoding: value.canonicalBytes(), as: UTF8.self)
        #expect(text == #"{"a":2,"b":1,"z":4,"é":3}"#)
    }
}
