import Foundation
import HeraldCore
import Testing

@Suite("Directory document")
struct DirectoryDocumentTests {
    static let specExample = """
        {
          "organizations": [{"id": "acme", "slug": "acme", "name": "Acme Inc."}],
          "users": [{"id": "u1", "organization": "acme", "name": "Ann Lee", "email": "ann@acme.test",
                     "emailVerified": true, "phone": "+15550000001", "slackId": "U0000000001",
                     "msteamsWebhook": null, "timezone": "Europe/Berlin",
                     "lastActiveAt": "2026-11-20T10:00:00Z", "isActive": true, "selfNotifications": false}],
          "teams": [{"id": "t1", "organization": "acme", "slug": "backend-team", "members": ["u1"],
                     "slackChannel": "C0000000100", "msteamsWebhook": null}],
          "projects": [{"id": "p1", "organization": "acme", "slug": "backend", "name": "Backend",
                        "teams": ["t1"], "fallthrough": "activeMembers",
                        "ownership": ["path:src/billing/** #backend-team", "url:*/checkout/* ann@acme.test"],
                        "routes": [{"id": "pd-main", "channel": "pagerduty", "notifier": 3,
                                    "target": "0123456789abcdef0123456789abcdef",
                                    "filter": {"keys": ["escalating", "regression", "resolved"], "minLevel": "error"}}],
                        "settings": {"emailNotifier": 1, "smsNotifier": 5, "otpCodeLength": 5, "otpTtlSeconds": 120}}],
          "subscriptions": [{"issue": "9001", "project": "p1", "user": "u1", "active": true, "reason": "bookmark"}],
          "preferences": [{"user": "u1", "scope": "user", "scopeId": "u1", "subject": "workflow",
                           "channel": null, "value": "always"},
                          {"user": "u1", "scope": "project", "scopeId": "p1", "subject": "assigned",
                           "channel": "email", "value": "never"}]
        }
        """

    @Test("the specification's example decodes, validates, and round-trips")
    func specExampleRoundTrip() throws {
        let document = try DirectoryDocument.parse(Data(Self.specExample.utf8), catalog: Fixture.catalog)
        #expect(document.users[0].lastActiveAt == Timestamp.parse("2026-11-20T10:00:00Z"))
        #expect(document.projects[0].routes[0].filter.minLevel == "error")
        #expect(document.projects[0].settings.smsNotifier == 5)
        #expect(document.preferences[1].channel == .email)
        let encoded = try JSONEncoder().encode(document)
        #expect(try JSONDecoder().decode(DirectoryDocument.self, from: encoded) == document)
        let object = try JSONValue.parse(encoded)
        #expect(
            object["users"]?.arrayValue?.first?["lastActiveAt"]?.stringValue?.hasPrefix("2026-11-20T10:00:00") == true
        )
        #expect(object["users"]?.arrayValue?.first?["msteamsWebhook"] == .null)
    }

    @Test("defaults fill absent fields")
    func defaults() throws {
        let json = """
            {"users": [{"id": "u1", "organization": "acme"}],
             "projects": [{"id": "p1", "organization": "acme", "slug": "backend"}]}
            """
        let document = try JSONDecoder().decode(DirectoryDocument.self, from: Data(json.utf8))
        #expect(document.users[0].isActive && !document.users[0].emailVerified && !document.users[0].selfNotifications)
        #expect(document.projects[0].fallthrough == .activeMembers)
        #expect(document.projects[0].settings == ProjectNotificationSettings())
        #expect(document.teams.isEmpty)
    }

    @Test(
        "decoding errors name the field",
        arguments: [
            (#"{"users": [{"id": "u1"}]}"#, "users[0].organization"),
            (#"{"users": [{"id": "u1", "organization": "a", "isActive": "yes"}]}"#, "users[0].isActive"),
            (#"{"users": [{"id": "u1", "organization": "a", "lastActiveAt": "yesterday"}]}"#, "users[0].lastActiveAt"),
            (
                #"{"projects": [{"id": "p", "organization": "a", "slug": "s", "fallthrough": "everyone"}]}"#,
                "projects[0].fallthrough"
            ),
            (
                #"{"preferences": [{"user": "u", "scope": "user", "scopeId": "u", "subject": "x", "value": "maybe"}]}"#,
                "preferences[0].value"
            ),
            ("not json", "body"),
        ]
    )
    func decodingErrors(json: String, field: String) {
        #expect {
            try DirectoryDocument.parse(Data(json.utf8), catalog: Fixture.catalog)
        } throws: { error in
            (error as? ValidationFailure)?.details.first?.field == field
        }
    }

    /// A valid document that each validation case breaks in one place.
    static func valid() -> DirectoryDocument {
        DirectoryDocument(
            organizations: [Organization(id: "acme", slug: "acme", name: "Acme")],
            users: [
                User(
                    id: "u1",
                    organization: "acme",
                    email: "ann@acme.test",
                    emailVerified: true,
                    phone: "+15550000001"
                ),
                User(id: "u2", organization: "acme", email: "bob@acme.test"),
            ],
            teams: [Team(id: "t1", organization: "acme", slug: "backend-team", members: ["u1", "u2"])],
            projects: [
                Project(
                    id: "p1",
                    organization: "acme",
                    slug: "backend",
                    teams: ["t1"],
                    ownership: ["path:src/** #backend-team", "url:*/checkout/* ann@acme.test"]
                )
            ],
            subscriptions: [IssueSubscription(issue: "9001", project: "p1", user: "u1", reason: .bookmark)],
            preferences: [
                PreferenceRow(
                    owner: .user("u1"),
                    scope: .user,
                    scopeId: "u1",
                    subject: "workflow",
                    value: .subscribeOnly
                )
            ]
        )
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var field: String
        var edit: @Sendable (inout DirectoryDocument) -> Void
        var description: String { name }
    }

    @Test(
        "validation names entry and field",
        arguments: [
            Case(name: "unknown team member", field: "teams[0].members[2]") { $0.teams[0].members.append("ghost") },
            Case(name: "duplicate user id", field: "users[2].id") {
                $0.users.append(User(id: "u1", organization: "acme"))
            },
            Case(name: "duplicate team id", field: "teams[1].id") {
                $0.teams.append(Team(id: "t1", organization: "acme", slug: "other"))
            },
            Case(name: "bad phone", field: "users[1].phone") { $0.users[1].phone = "555-1234" },
            Case(name: "bad email", field: "users[1].email") { $0.users[1].email = "bob at acme" },
            Case(name: "duplicate email", field: "users[1].email") { $0.users[1].email = "ANN@acme.test" },
            Case(name: "bad Slack id", field: "users[1].slackId") { $0.users[1].slackId = "bob" },
            Case(name: "bad time zone", field: "users[1].timezone") { $0.users[1].timezone = "Mars/Olympus" },
            Case(name: "unknown organization", field: "users[1].organization") { $0.users[1].organization = "globex" },
            Case(name: "unknown project team", field: "projects[0].teams[1]") { $0.projects[0].teams.append("t9") },
            Case(name: "bad ownership syntax", field: "projects[0].ownership[2]") {
                $0.projects[0].ownership.append("src/** #backend-team")
            },
            Case(name: "unknown ownership team", field: "projects[0].ownership[2]") {
                $0.projects[0].ownership.append("path:x #nobody")
            },
            Case(name: "bad route target", field: "projects[0].routes[0].target") {
                $0.projects[0].routes = [Route(id: "r", channel: .pagerduty, target: "short")]
            },
            Case(name: "unknown route key", field: "projects[0].routes[0].filter.keys[0]") {
                $0.projects[0].routes = [
                    Route(id: "r", channel: .slack, target: "C0000000100", filter: RouteFilter(keys: ["nope"]))
                ]
            },
            Case(name: "otp length out of range", field: "projects[0].settings.otpCodeLength") {
                $0.projects[0].settings.otpCodeLength = 3
            },
            Case(name: "subscription of unknown user", field: "subscriptions[0].user") {
                $0.subscriptions[0].user = "ghost"
            },
            Case(name: "preference value not valid for its type", field: "preferences[0].value") {
                $0.preferences[0].value = .committedOnly
            },
            Case(name: "preference on an unknown subject", field: "preferences[0].subject") {
                $0.preferences[0].subject = "nonsense"
            },
            Case(name: "preference channel row with an option value", field: "preferences[0].value") {
                $0.preferences[0].channel = .email
            },
            Case(name: "preference on PagerDuty", field: "preferences[0].channel") {
                $0.preferences[0].channel = .pagerduty
                $0.preferences[0].value = .always
            },
            Case(name: "preference scoped to an unknown project", field: "preferences[0].scopeId") {
                $0.preferences[0].scope = .project
                $0.preferences[0].scopeId = "p9"
            },
        ]
    )
    func validation(_ testCase: Case) {
        #expect(Self.valid().validate(catalog: Fixture.catalog).isEmpty)
        var document = Self.valid()
        testCase.edit(&document)
        let problems = document.validate(catalog: Fixture.catalog)
        #expect(problems.map(\.field) == [testCase.field], "\(problems)")
    }
}

@Suite("Directory snapshot")
struct DirectorySnapshotTests {
    @Test("lookups by id, slug and email")
    func lookups() throws {
        let snapshot = DirectorySnapshot(document: DirectoryDocumentTests.valid())
        #expect(snapshot.organization(reference: "acme")?.id == "acme")
        #expect(snapshot.user(email: "ANN@ACME.TEST", organization: "acme")?.id == "u1")
        #expect(snapshot.user(email: "ann@acme.test", organization: "globex") == nil)
        #expect(snapshot.team(slug: "backend-team", organization: "acme")?.id == "t1")
        #expect(snapshot.project(reference: "backend", organization: "acme")?.id == "p1")
        #expect(snapshot.project(reference: "p1", organization: "acme")?.id == "p1")
        #expect(snapshot.members(ofProject: "p1") == ["u1", "u2"])
        #expect(snapshot.isMember("u2", ofProject: "p1"))
        #expect(snapshot.ownershipRules(ofProject: "p1").count == 2)
        #expect(snapshot.subscriptions(project: "p1", issue: "9001").users["u1"]?.reason == .bookmark)
        #expect(snapshot.preferences(of: .user("u1")).count == 1)
    }
}
