/// The documented `data` of each built-in key (SPEC §3.2), as shapes intake checks before storing an event.
///
/// Every key's fields are listed, required ones marked; a field not listed is refused. Additions to the
/// table: `issue_alert` may carry the issue's current `assignee` (same shape as `assigned`'s), which the alert
/// audience counts among the owners (§6.3).
public enum BuiltInKeyData {
    typealias Field = FieldShape.Field

    static let assignee: FieldShape = .object([
        "id": Field(.identifier, required: true),
        "type": Field(.oneOf(["user", "team"]), required: true),
        "name": Field(.nullable(.string)),
        "email": Field(.nullable(.string)),
    ])

    static let version: Field = Field(.nullable(.string))

    /// A count that fits every consumer (non-negative, well inside 32 bits).
    static let count: FieldShape = .integer(0...1_000_000_000)

    /// The shape of `data` for each built-in key.
    public static let shapes: [String: FieldShape] = [
        "assigned": .object(["assignee": Field(assignee, required: true)]),
        "unassigned": .object([:]),
        "resolved": .object([:]),
        "resolved_in_release": .object(["version": version]),
        "resolved_in_commit": .object([
            "commit": Field(
                .object([
                    "id": Field(.text, required: true),
                    "message": Field(.nullable(.string)),
                    "authorEmail": Field(.nullable(.string)),
                    "url": Field(.nullable(.url)),
                ]),
                required: true
            )
        ]),
        "resolved_in_pull_request": .object([
            "pullRequest": Field(
                .object([
                    "id": Field(.text, required: true),
                    "title": Field(.nullable(.string)),
                    "url": Field(.nullable(.url)),
                ]),
                required: true
            )
        ]),
        "resolved_by_age": .object(["ageDays": Field(.nullable(count))]),
        "unresolved": .object([:]),
        "archived": .object(["until": Field(.nullable(.timestamp))]),
        "regression": .object(["version": version, "eventId": Field(.nullable(.text))]),
        "escalating": .object(["forecast": Field(.nullable(count)), "expiredSnooze": Field(.nullable(.bool))]),
        "note": .object([
            "text": Field(.string, required: true),
            "mentions": Field(.nullable(.list(.identifier))),
            "teamMentions": Field(.nullable(.list(.identifier))),
        ]),
        "external_issue_created": .object([
            "provider": Field(.text, required: true),
            "label": Field(.text, required: true),
            "location": Field(.url, required: true),
            "new": Field(.bool, required: true),
        ]),
        "deploy": .object([
            "version": Field(.text, required: true),
            "environment": Field(.text, required: true),
            "deployId": Field(.text, required: true),
            "commits": Field(.nullable(.list(.object(["authorEmail": Field(.nullable(.string))])))),
            "projects": Field(
                .nullable(
                    .list(
                        .either(
                            .identifier,
                            .object(["id": Field(.nullable(.identifier)), "slug": Field(.nullable(.identifier))])
                        )
                    )
                )
            ),
        ]),
        "issue_alert": .object([
            "rule": Field(
                .object(["id": Field(.identifier, required: true), "name": Field(.text, required: true)]),
                required: true
            ),
            "target": Field(
                .object([
                    "type": Field(.oneOf(["issueOwners", "team", "member"]), required: true),
                    "id": Field(.nullable(.identifier)),
                ]),
                required: true
            ),
            "fallthrough": Field(.nullable(.oneOf(FallthroughChoice.allCases.map(\.rawValue)))),
            "paths": Field(.nullable(.list(.string))),
            "url": Field(.nullable(.url)),
            "tags": Field(.nullable(.map(.string))),
            "assignee": Field(.nullable(assignee)),
        ]),
    ]

    /// Keys about one issue: the event must carry `issue` with `id`, `shortId` and `title`.
    public static func isIssueScoped(_ key: String) -> Bool {
        key != "deploy" && shapes[key] != nil
    }

    /// Every problem of a built-in key's `data` (nil data counts as `{}`), named under `path`.
    public static func problems(key: String, data: JSONValue?, path: String) -> [FieldError] {
        guard let shape = shapes[key] else { return [] }
        var problems = shape.problems(of: data ?? .object([:]), at: path)
        if key == "issue_alert", case .object(let members)? = data, case .object(let target)? = members["target"],
            let type = target["type"]?.stringValue, type == "team" || type == "member", target["id"]?.stringValue == nil
        {
            problems.append(FieldError(field: "\(path).target.id", message: "is required for a \(type) target"))
        }
        return problems
    }
}
