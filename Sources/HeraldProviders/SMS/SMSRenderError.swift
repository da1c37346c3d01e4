/// Why an event cannot be rendered as an SMS.
public enum SMSRenderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The recipient's address is not an E.164 number; the associated value says what is wrong.
    case invalidNumber(String)
    /// The notifier has neither `from` nor `messagingServiceSid`.
    case noSender(notifier: String)

    /// A sentence for logs and `herald explain`.
    public var description: String {
        switch self {
        case .invalidNumber(let problem):
            "the SMS recipient \(problem)"
        case .noSender(let notifier):
            "the SMS notifier \(notifier) has neither from nor messagingServiceSid"
        }
    }
}
