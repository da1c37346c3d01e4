import HeraldCore
import Testing

@Suite("Ownership rules")
struct OwnershipTests {
    struct GlobCase: Sendable, CustomStringConvertible {
        var pattern: String
        var mode: Glob.Mode
        var text: String
        var matches: Bool
        var description: String { "\(pattern) ~ \(text)" }
    }

    @Test(
        "glob matching",
        arguments: [
            GlobCase(pattern: "src/*.py", mode: .path, text: "src/a.py", matches: true),
            GlobCase(pattern: "src/*.py", mode: .path, text: "src/x/a.py", matches: false),
            GlobCase(pattern: "src/**", mode: .path, text: "src/x/y/a.py", matches: true),
            GlobCase(pattern: "src/**/a.py", mode: .path, text: "src/a.py", matches: true),
            GlobCase(pattern: "src/**/a.py", mode: .path, text: "src/x/y/a.py", matches: true),
            GlobCase(pattern: "src/**/a.py", mode: .path, text: "src/x/b.py", matches: false),
            GlobCase(pattern: "src/?.py", mode: .path, text: "src/a.py", matches: true),
            GlobCase(pattern: "src/?.py", mode: .path, text: "src/ab.py", matches: false),
            GlobCase(pattern: "*", mode: .path, text: "a/b", matches: false),
            GlobCase(pattern: "*", mode: .text, text: "a/b", matches: true),
            GlobCase(pattern: "*/checkout/*", mode: .text, text: "https://shop.test/checkout/pay", matches: true),
            GlobCase(pattern: "*/checkout/*", mode: .text, text: "https://shop.test/cart", matches: false),
            GlobCase(pattern: "prod*", mode: .text, text: "production", matches: true),
            GlobCase(pattern: "prod", mode: .text, text: "production", matches: false),
            GlobCase(pattern: "", mode: .text, text: "", matches: true),
            GlobCase(pattern: "a*b*c", mode: .text, text: "aXXbYYc", matches: true),
            GlobCase(pattern: "a*b*c", mode: .text, text: "aXXcYYb", matches: false),
        ]
    )
    func globMatching(_ testCase: GlobCase) {
        #expect(Glob(testCase.pattern, mode: testCase.mode).matches(testCase.text) == testCase.matches)
    }

    @Test(
        "rule syntax",
        arguments: [
            ("path:src/billing/** #backend-team", true),
            ("url:*/checkout/* ann@acme.test", true),
            ("tags.environment:prod* #ops ann@acme.test", true),
            ("path:src/**", false),
            ("src/** #team", false),
            ("file:src/** #team", false),
            ("path: #team", false),
            ("tags.:x #team", false),
            ("path:a # ", false),
            ("path:a not-an-email", false),
            ("", false),
        ]
    )
    func ruleSyntax(line: String, valid: Bool) {
        #expect(((try? OwnershipRule(parsing: line)) != nil) == valid)
    }

    @Test("owners of a parsed rule keep their order and emails are lower-cased")
    func parsedOwners() throws {
        let rule = try OwnershipRule(parsing: "path:src/** #backend-team Ann@Acme.Test")
        #expect(rule.owners == [.team(slug: "backend-team"), .user(email: "ann@acme.test")])
    }

    @Test("path rules match at any depth unless anchored with /")
    func pathDepth() throws {
        let subject = OwnershipSubject(paths: ["/app/src/billing/invoice.py"])
        #expect(try OwnershipRule(parsing: "path:src/billing/** #a").matches(subject))
        #expect(try !OwnershipRule(parsing: "path:/src/billing/** #a").matches(subject))
        #expect(try OwnershipRule(parsing: "path:/app/src/** #a").matches(subject))
        #expect(try OwnershipRule(parsing: "path:*.py #a").matches(subject))
    }

    @Test("when several rules match, the last one wins")
    func lastMatchWins() throws {
        let rules = try [
            "path:src/** #everyone",
            "path:src/billing/** #billing",
            "url:*/checkout/* carol@acme.test",
            "tags.environment:staging #qa",
        ].map { try OwnershipRule(parsing: $0) }
        let cases: [(OwnershipSubject, [OwnerReference])] = [
            (OwnershipSubject(paths: ["src/api/x.py"]), [.team(slug: "everyone")]),
            (OwnershipSubject(paths: ["src/billing/x.py"]), [.team(slug: "billing")]),
            (
                OwnershipSubject(paths: ["src/billing/x.py"], url: "https://s.test/checkout/1"),
                [.user(email: "carol@acme.test")]
            ),
            (
                OwnershipSubject(paths: ["src/a.py"], tags: ["environment": "staging"]),
                [.team(slug: "qa")]
            ),
            (OwnershipSubject(paths: ["lib/a.py"]), []),
        ]
        for (subject, expected) in cases {
            #expect(OwnershipEvaluator.owners(rules, for: subject) == expected)
        }
    }

    @Test("the subject is read from event data, ignoring wrong types")
    func subjectFromData() {
        let subject = OwnershipSubject(data: [
            "paths": .array([.string("a.py"), .number(3)]),
            "url": .string("https://x.test/"),
            "tags": .object(["level": .string("error"), "build": .number(42), "flag": .bool(true), "n": .null]),
        ])
        #expect(subject.paths == ["a.py"])
        #expect(subject.url == "https://x.test/")
        #expect(subject.tags == ["level": "error", "build": "42", "flag": "true"])
    }
}
