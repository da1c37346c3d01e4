import Foundation
import HeraldCore
import Testing

/// The expected class of an outcome, for table tests.
enum Expectation: Sendable, Hashable, CustomStringConvertible {
    case delivered(receipt: String?)
    case retry(FailureReason, ambiguous: Bool = false)
    case permanent(FailureReason)

    var description: String {
        switch self {
        case .delivered(let receipt): "delivered(\(receipt ?? "nil"))"
        case .retry(let reason, let ambiguous): "retry(\(reason)\(ambiguous ? ", ambiguous" : ""))"
        case .permanent(let reason): "permanent(\(reason))"
        }
    }

    /// Records an issue unless `outcome` matches.
    func verify(_ outcome: DeliveryOutcome, status: Int?, sourceLocation: SourceLocation = #_sourceLocation) {
        switch (self, outcome) {
        case (.delivered(let receipt), .delivered(let actual)):
            #expect(actual == receipt, sourceLocation: sourceLocation)
        case (.retry(let reason, let ambiguous), .failed(let error)):
            #expect(error.isRetryable, "expected retry, got \(error.summary)", sourceLocation: sourceLocation)
            #expect(error.reason == reason, "got \(error.summary)", sourceLocation: sourceLocation)
            #expect(error.ambiguous == ambiguous, "got \(error.summary)", sourceLocation: sourceLocation)
            #expect(error.status == status, sourceLocation: sourceLocation)
        case (.permanent(let reason), .failed(let error)):
            #expect(
                error.disposition == .permanent,
                "expected permanent, got \(error.summary)",
                sourceLocation: sourceLocation
            )
            #expect(error.reason == reason, "got \(error.summary)", sourceLocation: sourceLocation)
            #expect(error.status == status, sourceLocation: sourceLocation)
        default:
            Issue.record("expected \(self), got \(outcome)", sourceLocation: sourceLocation)
        }
    }
}

/// One row of a classification table.
struct ResponseRow: Sendable, CustomTestStringConvertible {
    var status: Int
    var body: String
    var expected: Expectation

    init(_ status: Int, _ body: String, _ expected: Expectation) {
        self.status = status
        self.body = body
        self.expected = expected
    }

    var testDescription: String { "\(status) \(body.prefix(60)) → \(expected)" }

    var response: HTTPResponse { HTTPResponse(status: status, body: Data(body.utf8)) }
}
