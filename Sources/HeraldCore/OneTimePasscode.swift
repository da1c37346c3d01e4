import Foundation

/// Where a one-time passcode stands (SPEC §11.6).
public enum OTPState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Issued; may still verify until it expires.
    case active
    /// Verified once; never again.
    case verified
    /// Too many wrong codes: refused from now on.
    case locked
}

/// A stored one-time passcode. Only a keyed hash of the code is kept (HMAC-SHA-256 with the server's
/// `otp.secretFile`); the code itself lives only in the rendered payload of its delivery.
public struct OTPRecord: Sendable, Hashable {
    /// `otp_<random>`, the handle clients verify with.
    public var id: String
    public var projectId: String
    /// `sms` or `email`.
    public var channel: Channel
    /// The phone number or email address the code went to (the key of the abuse limits).
    public var destination: String
    /// Hex HMAC-SHA-256 of the code.
    public var codeHash: String
    public var createdAt: Date
    public var expiresAt: Date
    public var state: OTPState
    /// Wrong codes tried so far.
    public var failedAttempts: Int

    public init(
        id: String,
        projectId: String,
        channel: Channel,
        destination: String,
        codeHash: String,
        createdAt: Date,
        expiresAt: Date,
        state: OTPState = .active,
        failedAttempts: Int = 0
    ) {
        self.id = id
        self.projectId = projectId
        self.channel = channel
        self.destination = destination
        self.codeHash = codeHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.state = state
        self.failedAttempts = failedAttempts
    }
}

extension OTPRecord {
    /// What one verification attempt does to this passcode, as both stores apply it inside their transaction:
    /// the answer, and the state and failure count to write back when they change. A used-up, locked or expired
    /// passcode changes nothing; a match uses it up; a wrong code counts, and the `maxFailures`-th locks it.
    public func attempt(
        matched: Bool,
        maxFailures: Int,
        now: Date
    ) -> (result: OTPAttemptResult, update: (state: OTPState, failedAttempts: Int)?) {
        switch state {
        case .verified: return (.alreadyUsed, nil)
        case .locked: return (.locked, nil)
        case .active: break
        }
        if now >= expiresAt { return (.expired, nil) }
        if matched { return (.verified, (.verified, failedAttempts)) }
        let failures = failedAttempts + 1
        if failures >= maxFailures { return (.locked, (.locked, failures)) }
        return (.wrong(remaining: maxFailures - failures), (.active, failures))
    }
}

/// Per-destination abuse limits of OTP issuance (`otp.perDestinationPerHour`, `otp.minIntervalSeconds`).
public struct OTPIssueLimits: Sendable, Hashable {
    /// At most this many codes to one destination in any hour.
    public var perDestinationPerHour: Int
    /// At least this long between two codes to one destination.
    public var minInterval: TimeInterval

    public init(perDestinationPerHour: Int = 5, minInterval: TimeInterval = 30) {
        self.perDestinationPerHour = perDestinationPerHour
        self.minInterval = minInterval
    }
}

/// What `Store.issueOTP` did.
public enum OTPIssueResult: Sendable, Hashable {
    /// Stored with its event and delivery.
    case issued(deliveryId: Int64)
    /// Over a limit of the destination: nothing stored; another code may be issued at `retryAt`.
    case limited(retryAt: Date)
}

/// What `Store.recordOTPAttempt` decided.
public enum OTPAttemptResult: Sendable, Hashable {
    /// The code matched: the passcode is now used up.
    case verified
    /// Wrong code; `remaining` tries are left before it locks.
    case wrong(remaining: Int)
    /// Wrong too often (now or before).
    case locked
    /// Past its expiry.
    case expired
    /// Already verified once.
    case alreadyUsed
    /// No such passcode (or another project's).
    case notFound
}

extension OTPRecord {
    /// Wrong codes after which a passcode locks (SPEC §11.6).
    public static let maxFailedAttempts = 5
}
