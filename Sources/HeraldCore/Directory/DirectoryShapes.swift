/// The documented shape of each directory entry (SPEC §5.2), the same for `herald import` and the API's bodies.
///
/// Checked on the parsed JSON before decoding, so that a misspelt field (`phnoe`) is refused instead of
/// storing `phone: null`, an identifier outside §3.1 never reaches the store, and a number out of its field's
/// range (`otpCodeLength: 5.5`, a 30-digit integer) is refused naming the field.
public enum DirectoryShapes {
    typealias Field = FieldShape.Field

    static let id = Field(.identifier, required: true)
    static let optionalText = Field(.nullable(.string))
    static let notifierId: FieldShape = .nullable(.integer(1...999_999_999))

    public static let organization: FieldShape = .object([
        "id": id, "slug": id, "name": Field(.string, required: true),
    ])

    public static let user: FieldShape = .object([
        "id": id, "organization": id, "name": optionalText, "email": optionalText,
        "emailVerified": Field(.nullable(.bool)), "phone": optionalText, "slackId": optionalText,
        "msteamsWebhook": optionalText, "timezone": optionalText, "lastActiveAt": Field(.nullable(.timestamp)),
        "isActive": Field(.nullable(.bool)), "selfNotifications": Field(.nullable(.bool)),
    ])

    public static let team: FieldShape = .object([
        "id": id, "organization": id, "slug": id, "members": Field(.nullable(.list(.identifier))),
        "slackChannel": optionalText, "msteamsWebhook": optionalText,
    ])

    public static let route: FieldShape = .object([
        "id": id,
        "channel": Field(.oneOf(Channel.allCases.map(\.rawValue)), required: true),
        "notifier": Field(notifierId),
        "target": Field(.string, required: true),
        "filter": Field(
            .nullable(
                .object([
                    "keys": Field(.nullable(.list(.string))),
                    "minLevel": Field(.nullable(.oneOf(RouteFilter.levels))),
                    "environments": Field(.nullable(.list(.string))),
                ])
            )
        ),
    ])

    public static let projectSettings: FieldShape = .object([
        "emailNotifier": Field(notifierId),
        "smsNotifier": Field(notifierId),
        "otpCodeLength": Field(.nullable(.integer(ProjectNotificationSettings.otpCodeLengthRange))),
        "otpTtlSeconds": Field(.nullable(.integer(ProjectNotificationSettings.otpTtlSecondsRange))),
    ])

    public static let project: FieldShape = .object([
        "id": id, "organization": id, "slug": id, "name": optionalText,
        "teams": Field(.nullable(.list(.identifier))),
        "fallthrough": Field(.nullable(.oneOf(FallthroughChoice.allCases.map(\.rawValue)))),
        "ownership": Field(.nullable(.list(.string))),
        "routes": Field(.nullable(.list(route))),
        "settings": Field(.nullable(projectSettings)),
    ])

    public static let subscription: FieldShape = .object([
        "issue": id, "project": id, "user": Field(.nullable(.identifier)), "team": Field(.nullable(.identifier)),
        "active": Field(.nullable(.bool)),
        "reason": Field(.oneOf(SubscriptionReason.allCases.map(\.rawValue)), required: true),
    ])

    public static let preference: FieldShape = .object([
        "user": Field(.nullable(.identifier)), "team": Field(.nullable(.identifier)),
        "scope": Field(.oneOf(PreferenceScope.allCases.map(\.rawValue)), required: true),
        "scopeId": id,
        "subject": Field(.text, required: true),
        "channel": Field(.nullable(.oneOf(Channel.allCases.map(\.rawValue)))),
        "value": Field(.oneOf(PreferenceValue.allCases.map(\.rawValue)), required: true),
    ])

    /// The whole import file.
    public static let document: FieldShape = .object([
        "organizations": Field(.nullable(.list(organization))),
        "users": Field(.nullable(.list(user))),
        "teams": Field(.nullable(.list(team))),
        "projects": Field(.nullable(.list(project))),
        "subscriptions": Field(.nullable(.list(subscription))),
        "preferences": Field(.nullable(.list(preference))),
    ])

    /// Parses `data` strictly (UTF-8, no duplicate keys, bounded nesting) and checks it against `shape`;
    /// the problems are named under `root` (empty for an import file, whose fields are `users[3].phone`).
    public static func check(_ data: [UInt8], against shape: FieldShape, root: String = "") -> [FieldError] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes: data)
        } catch {
            let field = error.fieldPath(under: root)
            return [FieldError(field: field.isEmpty ? "body" : field, message: error.reason)]
        }
        return shape.problems(of: value, at: root).map { problem in
            // The shape names fields `.users[3]…` under an empty root: drop the leading dot.
            guard root.isEmpty, problem.field.hasPrefix(".") else { return problem }
            return FieldError(field: String(problem.field.dropFirst()), message: problem.message)
        }
    }
}
