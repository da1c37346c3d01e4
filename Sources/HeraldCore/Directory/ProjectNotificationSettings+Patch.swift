/// A partial change of a project's notification settings (`PATCH /projects/{id}/settings/notifications`):
/// omitted fields keep their value, `.some(nil)` clears a notifier.
public struct ProjectNotificationSettingsPatch: Sendable, Hashable {
    public var emailNotifier: Int??
    public var smsNotifier: Int??
    public var otpCodeLength: Int?
    public var otpTtlSeconds: Int?

    public init(
        emailNotifier: Int?? = nil,
        smsNotifier: Int?? = nil,
        otpCodeLength: Int? = nil,
        otpTtlSeconds: Int? = nil
    ) {
        self.emailNotifier = emailNotifier
        self.smsNotifier = smsNotifier
        self.otpCodeLength = otpCodeLength
        self.otpTtlSeconds = otpTtlSeconds
    }
}

extension ProjectNotificationSettings {
    /// The settings with `patch` applied, or every problem: a notifier that is not configured or not of the
    /// field's channel (`notifiers` maps configured ids to channels), an OTP length or lifetime out of range.
    public func applying(
        _ patch: ProjectNotificationSettingsPatch,
        notifiers: [Int: Channel]
    ) throws(ValidationFailure) -> ProjectNotificationSettings {
        var result = self
        if let value = patch.emailNotifier { result.emailNotifier = value }
        if let value = patch.smsNotifier { result.smsNotifier = value }
        if let value = patch.otpCodeLength { result.otpCodeLength = value }
        if let value = patch.otpTtlSeconds { result.otpTtlSeconds = value }
        var problems: [FieldError] = []
        if patch.emailNotifier != nil, let problem = Self.notifierProblem(result.emailNotifier, .email, notifiers) {
            problems.append(FieldError(field: "emailNotifier", message: problem))
        }
        if patch.smsNotifier != nil, let problem = Self.notifierProblem(result.smsNotifier, .sms, notifiers) {
            problems.append(FieldError(field: "smsNotifier", message: problem))
        }
        if !Self.otpCodeLengthRange.contains(result.otpCodeLength) {
            problems.append(FieldError(field: "otpCodeLength", message: "must be between 4 and 10"))
        }
        if !Self.otpTtlSecondsRange.contains(result.otpTtlSeconds) {
            problems.append(FieldError(field: "otpTtlSeconds", message: "must be between 30 and 3600"))
        }
        guard problems.isEmpty else { throw ValidationFailure(code: "VALIDATION_FAILED", details: problems) }
        return result
    }

    /// Why `id` cannot be the project's notifier for `channel`, or nil when it can (nil clears it).
    public static func notifierProblem(_ id: Int?, _ channel: Channel, _ notifiers: [Int: Channel]) -> String? {
        guard let id else { return nil }
        guard let actual = notifiers[id] else { return "notifier \(id) is not configured" }
        return actual == channel ? nil : "notifier \(id) is a \(actual.rawValue) notifier, not \(channel.rawValue)"
    }
}
