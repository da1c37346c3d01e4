import HeraldCore
import Testing

@Suite("Preference resolution")
struct PreferenceResolverTests {
    typealias F = Fixture

    func resolve(_ rows: [PreferenceRow], key: String, project: String? = "p1") -> EffectivePreference {
        PreferenceResolver.resolve(rows: rows, entry: F.entry(key), organizationId: "acme", projectId: project)
    }

    @Test(
        "type defaults",
        arguments: [
            ("assigned", PreferenceValue.subscribeOnly),
            ("deploy", .committedOnly),
            ("issue_alert", .always),
        ]
    )
    func typeDefaults(key: String, value: PreferenceValue) {
        let resolved = resolve([], key: key)
        #expect(resolved.value == value)
        #expect(resolved.enabledChannels == [.email, .slack])
    }

    @Test("a custom type defaults to always with its catalog channel defaults")
    func customDefaults() {
        let entry = CatalogEntry(
            key: "payout_processed",
            type: NotificationType("payments"),
            description: "",
            defaults: [.email: true, .sms: true]
        )
        let resolved = PreferenceResolver.resolve(rows: [], entry: entry, organizationId: "acme", projectId: nil)
        #expect(resolved.value == .always)
        #expect(resolved.enabledChannels == [.email, .sms])
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var rows: [PreferenceRow]
        var key: String
        var value: PreferenceValue
        var email: Bool
        var description: String { name }
    }

    @Test(
        "most specific row wins",
        arguments: [
            Case(
                name: "project beats organization beats user",
                rows: [
                    F.row("u1", .project, "p1", "workflow", nil, .always),
                    F.row("u1", .organization, "acme", "workflow", nil, .never),
                    F.row("u1", .user, "u1", "workflow", nil, .subscribeOnly),
                ],
                key: "assigned",
                value: .always,
                email: true
            ),
            Case(
                name: "organization beats user",
                rows: [
                    F.row("u1", .user, "u1", "workflow", nil, .always),
                    F.row("u1", .organization, "acme", "workflow", nil, .never),
                ],
                key: "assigned",
                value: .never,
                email: true
            ),
            Case(
                name: "within a scope the key beats the type, whatever the order",
                rows: [
                    F.row("u1", .user, "u1", "assigned", nil, .always),
                    F.row("u1", .user, "u1", "workflow", nil, .never),
                ],
                key: "assigned",
                value: .always,
                email: true
            ),
            Case(
                name: "a user-scope key row loses to an organization type row",
                rows: [
                    F.row("u1", .user, "u1", "assigned", .email, .never),
                    F.row("u1", .organization, "acme", "workflow", .email, .always),
                ],
                key: "assigned",
                value: .subscribeOnly,
                email: true
            ),
            Case(
                name: "rows of another project or organization do not apply",
                rows: [
                    F.row("u1", .project, "p2", "workflow", nil, .never),
                    F.row("u1", .organization, "other", "workflow", .email, .never),
                ],
                key: "assigned",
                value: .subscribeOnly,
                email: true
            ),
            Case(
                name: "option value and channels resolve separately",
                rows: [
                    F.row("u1", .project, "p1", "workflow", nil, .always),
                    F.row("u1", .user, "u1", "assigned", .email, .never),
                ],
                key: "assigned",
                value: .always,
                email: false
            ),
            Case(
                name: "a value not valid for the type is ignored",
                rows: [F.row("u1", .user, "u1", "issue_alert", nil, .subscribeOnly)],
                key: "issue_alert",
                value: .always,
                email: true
            ),
            Case(
                name: "rows of other keys do not apply",
                rows: [F.row("u1", .user, "u1", "note", nil, .never)],
                key: "assigned",
                value: .subscribeOnly,
                email: true
            ),
        ]
    )
    func specificity(_ testCase: Case) {
        let resolved = resolve(testCase.rows, key: testCase.key)
        #expect(resolved.value == testCase.value)
        #expect(resolved.channels[.email] == testCase.email)
    }

    @Test("a user mutes assigned emails and keeps note emails")
    func muteAssignedKeepNote() {
        let rows = [F.row("u1", .user, "u1", "assigned", .email, .never)]
        #expect(!resolve(rows, key: "assigned").isEnabled(.email))
        #expect(resolve(rows, key: "assigned").isEnabled(.slack))
        #expect(resolve(rows, key: "note").isEnabled(.email))
    }

    @Test("never disables every channel")
    func neverDisablesAll() {
        let resolved = resolve([F.row("u1", .user, "u1", "alerts", nil, .never)], key: "issue_alert")
        #expect(resolved.enabledChannels.isEmpty)
        #expect(resolved.channels[.email] == true)
    }

    @Test("critical keys ignore user rows but not organization or project rows")
    func criticalKeys() {
        let entry = CatalogEntry(
            key: "otp_code",
            type: NotificationType("security"),
            description: "",
            defaults: [.sms: true],
            critical: true
        )
        func resolve(_ rows: [PreferenceRow]) -> EffectivePreference {
            PreferenceResolver.resolve(rows: rows, entry: entry, organizationId: "acme", projectId: "p1")
        }
        #expect(resolve([F.row("u1", .user, "u1", "otp_code", nil, .never)]).isEnabled(.sms))
        #expect(resolve([F.row("u1", .user, "u1", "otp_code", .sms, .never)]).isEnabled(.sms))
        #expect(!resolve([F.row("u1", .organization, "acme", "otp_code", .sms, .never)]).isEnabled(.sms))
        #expect(!resolve([F.row("u1", .project, "p1", "security", nil, .never)]).isEnabled(.sms))
    }
}

@Suite("Preference matrix and option rows")
struct PreferenceMatrixTests {
    typealias F = Fixture

    @Test("one row per catalog key, sorted, at defaults")
    func defaults() {
        let rows = PreferenceMatrix.rows(catalog: F.catalog, userRows: [])
        #expect(rows.map(\.eventKey) == F.catalog.allEntries.map(\.key))
        #expect(rows.map(\.eventKey) == rows.map(\.eventKey).sorted())
        let ordinary = rows.filter { F.catalog.entry(for: $0.eventKey)?.critical == false }
        #expect(ordinary.allSatisfy { $0.email && $0.slack && !$0.msteams && !$0.sms && !$0.webhook && !$0.customized })
        // One-time passcodes (critical) go by email and SMS.
        let otp = rows.first { $0.eventKey == "otp_code" }
        #expect(otp.map { $0.email && $0.sms && !$0.slack && !$0.customized } == true)
    }

    @Test("user-scope overrides show, other scopes do not, customized only for key rows")
    func overrides() throws {
        let stored = [
            F.row("u1", .user, "u1", "assigned", .email, .never),
            F.row("u1", .user, "u1", "workflow", .sms, .always),
            F.row("u1", .project, "p1", "note", .slack, .never),
        ]
        let rows = PreferenceMatrix.rows(catalog: F.catalog, userRows: stored)
        let assigned = try #require(rows.first { $0.eventKey == "assigned" })
        #expect(!assigned.email && assigned.slack && assigned.sms && assigned.customized)
        let note = try #require(rows.first { $0.eventKey == "note" })
        #expect(note.email && note.slack && note.sms && !note.customized)
        let deploy = try #require(rows.first { $0.eventKey == "deploy" })
        #expect(!deploy.sms && !deploy.customized)
    }

    /// The matrix skips the resolver for keys no row applies to; every row must still read as the resolver says.
    @Test("the matrix agrees with the resolver for every key, over many seeded row sets", arguments: 0..<40)
    func matrixAgreesWithTheResolver(seed: Int) {
        var generator = SplitMix(seed: UInt64(seed))
        let entries = F.catalog.allEntries
        let subjects = entries.map(\.key) + Set(entries.map(\.type.rawValue)).sorted() + ["unrelated"]
        let values: [PreferenceValue] = [.always, .never, .subscribeOnly, .committedOnly]
        let channels: [Channel?] = [nil] + Channel.personal
        let stored = (0..<Int(generator.next() % 12)).map { _ in
            F.row(
                "u1",
                [PreferenceScope.user, .project][Int(generator.next() % 2)],
                "u1",
                subjects[Int(generator.next() % UInt64(subjects.count))],
                channels[Int(generator.next() % UInt64(channels.count))],
                values[Int(generator.next() % UInt64(values.count))]
            )
        }
        let userScoped = stored.filter { $0.scope == .user }
        for row in PreferenceMatrix.rows(catalog: F.catalog, userRows: stored) {
            let entry = entries.first { $0.key == row.eventKey }!
            let resolved = PreferenceResolver.resolve(
                rows: userScoped,
                entry: entry,
                organizationId: nil,
                projectId: nil
            )
            for channel in Channel.personal {
                #expect(row[channel] == (resolved.channels[channel] ?? false), "\(row.eventKey) \(channel) \(stored)")
            }
            #expect(row.customized == userScoped.contains { $0.subject == entry.key })
        }
    }

    /// A small seeded generator, so each case is the same on every run.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("patch writes only the given channels and reads back; delete resets to defaults")
    func patchAndDelete() throws {
        var stored = [F.row("u1", .project, "p1", "assigned", .email, .never)]
        stored = PreferenceMatrix.applyingOverride(
            [.email: false, .sms: true],
            key: "assigned",
            userId: "u1",
            to: stored
        )
        stored = PreferenceMatrix.applyingOverride([.email: true], key: "assigned", userId: "u1", to: stored)
        #expect(stored.count == 3)
        let row = PreferenceMatrix.row(for: F.entry("assigned"), userRows: stored)
        #expect(
            row
                == PreferenceMatrixRow(
                    eventKey: "assigned",
                    email: true,
                    slack: true,
                    msteams: false,
                    sms: true,
                    webhook: false,
                    customized: true
                )
        )
        stored = PreferenceMatrix.removingOverrides(key: "assigned", from: stored)
        #expect(stored == [F.row("u1", .project, "p1", "assigned", .email, .never)])
        #expect(!PreferenceMatrix.row(for: F.entry("assigned"), userRows: stored).customized)
    }

    struct OptionCase: Sendable, CustomStringConvertible {
        var type: String
        var scopeType: String
        var scopeId: String
        var value: String
        var code: String?
        var fields: [String]
        var description: String { "\(type)/\(scopeType)/\(value)" }
    }

    @Test(
        "option rows are validated",
        arguments: [
            OptionCase(
                type: "workflow",
                scopeType: "user",
                scopeId: "u1",
                value: "subscribeOnly",
                code: nil,
                fields: []
            ),
            OptionCase(
                type: "deploy",
                scopeType: "organization",
                scopeId: "acme",
                value: "committedOnly",
                code: nil,
                fields: []
            ),
            OptionCase(type: "assigned", scopeType: "project", scopeId: "p1", value: "never", code: nil, fields: []),
            OptionCase(
                type: "nope",
                scopeType: "user",
                scopeId: "u1",
                value: "always",
                code: "INVALID_TYPE",
                fields: ["type"]
            ),
            OptionCase(
                type: "alerts",
                scopeType: "team",
                scopeId: "u1",
                value: "always",
                code: "VALIDATION_FAILED",
                fields: ["scopeType"]
            ),
            OptionCase(
                type: "alerts",
                scopeType: "user",
                scopeId: "u1",
                value: "sometimes",
                code: "VALIDATION_FAILED",
                fields: ["value"]
            ),
            OptionCase(
                type: "alerts",
                scopeType: "user",
                scopeId: "u1",
                value: "subscribeOnly",
                code: "VALIDATION_FAILED",
                fields: ["value"]
            ),
            OptionCase(
                type: "workflow",
                scopeType: "user",
                scopeId: "u1",
                value: "committedOnly",
                code: "VALIDATION_FAILED",
                fields: ["value"]
            ),
            OptionCase(
                type: "workflow",
                scopeType: "user",
                scopeId: "u2",
                value: "always",
                code: "VALIDATION_FAILED",
                fields: ["scopeIdentifier"]
            ),
            OptionCase(
                type: "workflow",
                scopeType: "project",
                scopeId: "p9",
                value: "always",
                code: "VALIDATION_FAILED",
                fields: ["scopeIdentifier"]
            ),
        ]
    )
    func optionValidation(_ testCase: OptionCase) {
        let directory = F.snapshot(users: [F.user("u1")])
        do {
            let row = try PreferenceOptions.optionRow(
                owner: .user("u1"),
                type: testCase.type,
                scopeType: testCase.scopeType,
                scopeIdentifier: testCase.scopeId,
                value: testCase.value,
                catalog: F.catalog,
                directory: directory
            )
            #expect(testCase.code == nil)
            #expect(row.channel == nil && row.subject == testCase.type && row.value.rawValue == testCase.value)
        } catch {
            #expect(error.code == testCase.code)
            #expect(error.details.map(\.field) == testCase.fields)
        }
    }

    @Test("provider rows write on for the listed channels and off for the other personal ones")
    func providerRows() throws {
        let rows = try PreferenceOptions.providerRows(
            owner: .user("u1"),
            type: "workflow",
            scopeType: "user",
            scopeIdentifier: "u1",
            providers: ["slack", "sms"],
            catalog: F.catalog
        )
        #expect(rows.map(\.channel) == Channel.personal)
        #expect(rows.filter { $0.value == .always }.map(\.channel) == [.slack, .sms])
        #expect(throws: ValidationFailure.self) {
            try PreferenceOptions.providerRows(
                owner: .user("u1"),
                type: "workflow",
                scopeType: "user",
                scopeIdentifier: "u1",
                providers: ["pagerduty"],
                catalog: F.catalog
            )
        }
    }

    @Test("defaults list type values and channel defaults")
    func notificationDefaults() {
        let defaults = PreferenceOptions.defaults(catalog: F.catalog)
        #expect(defaults.providerDefaults == [.email, .slack])
        #expect(
            defaults.typeDefaults == [
                "workflow": .subscribeOnly, "deploy": .committedOnly, "alerts": .always, "security": .always,
            ]
        )
        #expect(defaults.keyDefaults["assigned"]?["email"] == true)
    }
}
