import Foundation
import HeraldCore
import HeraldProviders
import HeraldSQLite
import HeraldTesting
import Logging
import Testing

@testable import HeraldWorker

/// Fan-out over a directory imported into a real SQLite file: participants, preferences, suppressions,
/// implicit subscriptions and routes, end to end through the store.
@Suite("Fan-out with a directory", .serialized)
struct DirectoryFanOutTests {
    static let directoryJSON = """
        {
          "organizations": [{"id": "acme", "slug": "acme", "name": "Acme Inc."}],
          "users": [
            {"id": "u1", "organization": "acme", "name": "Ann Lee", "email": "ann@acme.test", "emailVerified": true,
             "slackId": "U0000000001", "lastActiveAt": "2026-11-20T10:00:00Z", "isActive": true},
            {"id": "u2", "organization": "acme", "name": "Bob Roe", "email": "bob@acme.test", "emailVerified": true,
             "slackId": "U0000000002", "lastActiveAt": "2026-11-21T10:00:00Z", "isActive": true},
            {"id": "u3", "organization": "acme", "name": "Cy Poe", "email": "cy@acme.test", "emailVerified": false,
             "lastActiveAt": "2026-11-19T10:00:00Z", "isActive": true},
            {"id": "jane", "organization": "acme", "name": "Jane Doe", "email": "jane@acme.test", "emailVerified": true,
             "slackId": "U0000000009", "isActive": true}
          ],
          "teams": [{"id": "t1", "organization": "acme", "slug": "backend-team", "members": ["u1", "u2", "u3", "jane"],
                     "slackChannel": "C0000000100"}],
          "projects": [{"id": "p1", "organization": "acme", "slug": "backend", "name": "Backend", "teams": ["t1"],
                        "fallthrough": "activeMembers",
                        "ownership": ["path:src/billing/** #backend-team", "path:src/billing/invoice.py bob@acme.test"],
                        "routes": [{"id": "hook", "channel": "webhook", "notifier": 6,
                                    "target": "https://hooks.example/route",
                                    "filter": {"keys": ["issue_alert", "note"], "minLevel": "error"}}]}],
          "subscriptions": [{"issue": "9001", "project": "p1", "user": "u2", "active": false, "reason": "bookmark"}],
          "preferences": [
            {"user": "u1", "scope": "user", "scopeId": "u1", "subject": "workflow", "channel": null, "value": "always"},
            {"user": "u1", "scope": "user", "scopeId": "u1", "subject": "assigned", "channel": "email", "value": "never"},
            {"user": "u2", "scope": "user", "scopeId": "u2", "subject": "deploy", "channel": null, "value": "always"}
          ]
        }
        """

    struct Fixture {
        let store: SQLiteStore
        let fanOut: FanOutStage
        let directory: URL
        let clock = ManualClock()

        init(extraProviders: [any Provider] = [], defaults extraDefaults: [Channel: Int] = [:]) async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-dir-\(UUID().uuidString)")
            store = try SQLiteStore(path: directory.appendingPathComponent("herald.db").path)
            try await store.migrate()
            let catalog = Catalog()
            let document = try DirectoryDocument.parse(
                Data(DirectoryFanOutTests.directoryJSON.utf8),
                catalog: catalog,
                existing: DirectoryDocument()
            )
            try await store.importDirectory(document, now: clock.now())
            let slack = SlackProvider(
                notifier: NotifierInfo(id: 2, name: "slack", channel: .slack),
                connection: SlackConnection(apiURL: "http://127.0.0.1:1/api", token: "xoxb-test")
            )
            let hook = WebhookProvider(
                notifier: NotifierInfo(id: 6, name: "hook", channel: .webhook),
                connection: WebhookConnection()
            )
            let providers = ProviderSet(
                providers: [slack, hook] + extraProviders,
                defaults: [.slack: 2, .webhook: 6].merging(extraDefaults) { $1 }
            )
            fanOut = FanOutStage(
                store: store,
                planner: FanOutPlanner(catalog: catalog, providers: providers, audience: DirectoryAudience()),
                clock: clock,
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                sendDoorbell: Doorbell(),
                counters: WorkerCounters()
            )
        }

        func run(_ json: String) async throws -> EventRecord {
            let intake = EventIntake(catalog: Catalog())
            let events = try intake.parseDocument(Data(json.utf8), now: clock.now())
            _ = try await store.enqueue(events, now: clock.now())
            try await fanOut.runOnce()
            return try #require(try await store.eventRecord(id: events[0].event.id))
        }

        func close() async throws {
            try await store.close()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func targets(_ record: EventRecord) -> Set<String> {
        Set(
            record.deliveries.map {
                "\($0.recipient.kind.rawValue):\($0.recipient.id ?? $0.recipient.address)/\($0.channel.rawValue)"
            }
        )
    }

    static func suppressed(_ record: EventRecord) -> Set<String> {
        Set(record.suppressions.map { "\($0.recipient)/\($0.channel?.rawValue ?? "*")/\($0.reason)" })
    }

    @Test func assignedNotifiesByPreferenceAndSubscribesTheAssignee() async throws {
        let fixture = try await Fixture()
        let record = try await fixture.run(
            """
            {"id":"e1","key":"assigned","organization":"acme","project":"backend","actor":{"id":"jane","name":"Jane Doe"},
             "issue":{"id":"9001","shortId":"BACKEND-1A","title":"TypeError","level":"error"},
             "data":{"assignee":{"id":"u3","type":"user","name":"Cy Poe"}}}
            """
        )
        let targets = Self.targets(record)
        // Ann set workflow=always but muted assigned email: Slack only.
        #expect(targets.contains("user:u1/slack"))
        #expect(!targets.contains("user:u1/email"))
        // Cy was just assigned (subscribed): slack has no address, email unverified.
        let suppressed = Self.suppressed(record)
        #expect(
            suppressed.contains("user:u3/slack/no_address:slack")
                || suppressed.contains("user:u3/email/no_address:email")
        )
        // Bob explicitly unsubscribed from the issue; Jane is the actor.
        #expect(!targets.contains { $0.hasPrefix("user:u2/") })
        #expect(suppressed.contains { $0.hasPrefix("user:u2/") && $0.hasSuffix("unsubscribed") })
        #expect(!targets.contains { $0.hasPrefix("user:jane/") })
        #expect(suppressed.contains { $0.hasPrefix("user:jane/") })
        // The assignment subscribed Cy, and the subscription is stored.
        let directory = try await fixture.store.loadDirectory()
        #expect(
            directory.subscriptions.contains {
                $0.user == "u3" && $0.issue == "9001" && $0.active && $0.reason == .assigned
            }
        )
        try await fixture.close()
    }

    @Test func noteReachesSubscribersAndMatchingRoutes() async throws {
        let fixture = try await Fixture()
        let record = try await fixture.run(
            """
            {"key":"note","organization":"acme","project":"backend","actor":{"id":"u3","name":"Cy Poe"},
             "issue":{"id":"9002","shortId":"BACKEND-2B","title":"KeyError","level":"error"},
             "data":{"text":"Looking into it","mentions":["u2"]}}
            """
        )
        let targets = Self.targets(record)
        #expect(targets.contains("user:u2/slack"))  // mentioned: subscribed by the note itself
        // Email is enabled for Bob, but this daemon has no email notifier: recorded, not dropped silently.
        #expect(Self.suppressed(record).contains("user:u2/email/no_notifier:email"))
        #expect(targets.contains("route:hook/webhook"))  // route filter: note at level error
        #expect(!targets.contains { $0.hasPrefix("user:u3/") })  // the author is the actor
        try await fixture.close()
    }

    @Test func deployNotifiesCommittersAndAlwaysSettings() async throws {
        let fixture = try await Fixture()
        let record = try await fixture.run(
            """
            {"key":"deploy","organization":"acme","project":"backend",
             "data":{"version":"2.4.0","environment":"production","deployId":"d1",
                     "commits":[{"authorEmail":"ANN@acme.test"}]}}
            """
        )
        let targets = Self.targets(record)
        #expect(targets.contains("user:u1/slack"))  // committed (case-insensitive verified email)
        #expect(targets.contains("user:u2/slack"))  // deploy=always
        #expect(Self.suppressed(record).contains("user:u1/email/no_notifier:email"))
        #expect(!targets.contains { $0.hasPrefix("user:u3/") })  // unverified email: not a release participant
        #expect(
            record.deliveries.allSatisfy {
                $0.reason == .route || ["committed", "deploySetting"].contains($0.reason.rawValue)
            }
        )
        try await fixture.close()
    }

    @Test func issueAlertUsesTheLastMatchingOwnershipRule() async throws {
        let fixture = try await Fixture()
        let record = try await fixture.run(
            """
            {"key":"issue_alert","organization":"acme","project":"backend",
             "issue":{"id":"9003","shortId":"BACKEND-3C","title":"Invoice failed","level":"fatal"},
             "data":{"rule":{"id":"r1","name":"New issue"},"target":{"type":"issueOwners"},
                     "paths":["src/billing/invoice.py"]}}
            """
        )
        let targets = Self.targets(record)
        #expect(targets.contains("user:u2/slack"))
        #expect(targets.contains("route:hook/webhook"))
        #expect(!targets.contains { $0.hasPrefix("user:u1/") || $0.hasPrefix("team:") })
        try await fixture.close()
    }

    @Test func issueAlertWithoutOwnersFallsThroughToActiveMembers() async throws {
        let fixture = try await Fixture()
        let record = try await fixture.run(
            """
            {"key":"issue_alert","organization":"acme","project":"backend",
             "issue":{"id":"9004","shortId":"BACKEND-4D","title":"Timeout","level":"warning"},
             "data":{"rule":{"id":"r1","name":"New issue"},"target":{"type":"issueOwners"},"paths":["src/web/x.py"]}}
            """
        )
        let targets = Self.targets(record)
        #expect(targets.isSuperset(of: ["user:u1/slack", "user:u2/slack", "user:jane/slack"]))
        #expect(!targets.contains("route:hook/webhook"))  // warning is below the route's minLevel
        let reasons = Set(record.deliveries.map(\.reason.rawValue))
        #expect(reasons == ["activeMembers"])
        try await fixture.close()
    }

    @Test func reimportChangesTheAudienceOfTheRunningStage() async throws {
        let fixture = try await Fixture()
        let first = try await fixture.run(
            #"{"key":"resolved","organization":"acme","project":"backend","issue":{"id":"9005","shortId":"BACKEND-5E","title":"Fixed"}}"#
        )
        #expect(Self.targets(first).contains("user:u1/slack"))
        let update = """
            {"preferences":[{"user":"u1","scope":"project","scopeId":"p1","subject":"workflow","channel":null,
                             "value":"never"}]}
            """
        let existing = try await fixture.store.loadDirectory()
        let document = try DirectoryDocument.parse(Data(update.utf8), catalog: Catalog(), existing: existing)
        try await fixture.store.importDirectory(document, now: fixture.clock.now())
        let second = try await fixture.run(
            #"{"key":"resolved","organization":"acme","project":"backend","issue":{"id":"9006","shortId":"BACKEND-6F","title":"Fixed"}}"#
        )
        #expect(!Self.targets(second).contains { $0.hasPrefix("user:u1/") })
        #expect(Self.suppressed(second).contains { $0.hasPrefix("user:u1/") && $0.hasSuffix("preference:never") })
        try await fixture.close()
    }

    @Test func projectSettingsChooseTheEmailNotifier() async throws {
        func email(_ id: Int) -> EmailProvider {
            EmailProvider(
                notifier: NotifierInfo(id: id, name: "mail-\(id)", channel: .email),
                connection: EmailConnection(url: "smtp://127.0.0.1:1", from: "Herald <notify@example.com>")
            )
        }
        let fixture = try await Fixture(extraProviders: [email(1), email(7)], defaults: [.email: 1])
        let update = """
            {"projects":[{"id":"p1","organization":"acme","slug":"backend","name":"Backend","teams":["t1"],
                          "settings":{"emailNotifier":7}}]}
            """
        let existing = try await fixture.store.loadDirectory()
        let document = try DirectoryDocument.parse(Data(update.utf8), catalog: Catalog(), existing: existing)
        try await fixture.store.importDirectory(document, now: fixture.clock.now())
        let record = try await fixture.run(
            #"{"key":"resolved","organization":"acme","project":"backend","issue":{"id":"9007","shortId":"BACKEND-7G","title":"Fixed"}}"#
        )
        let emails = record.deliveries.filter { $0.channel == .email }
        #expect(!emails.isEmpty)
        #expect(emails.allSatisfy { $0.notifierId == 7 })
        try await fixture.close()
    }
}
