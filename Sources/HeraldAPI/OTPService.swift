import Crypto
import Foundation
import HeraldCore

/// One-time passcodes (SPEC §11.6): issues a code through the project's SMS or email notifier and verifies it
/// once. Only an HMAC-SHA-256 of the code (keyed with `otp.secretFile`) is stored; the code itself exists only
/// in memory here and in the rendered payload of its delivery, never in the stored event, a log line or an
/// answer.
public struct OTPService: Sendable {
    /// Why an issue or a verification was refused.
    public enum Failure: Error, Sendable, Hashable {
        /// A field of the request is wrong (or the project lacks the notifier the channel needs).
        case invalid([FieldError])
        /// No such project.
        case projectNotFound(String)
        /// Over the destination's abuse limits; another code may be issued at the date.
        case limited(retryAt: Date)
    }

    /// An issued passcode as the client sees it: never the code.
    public struct Issued: Sendable, Hashable {
        public var otpId: String
        public var expiresAt: Date
    }

    public let store: any Store
    /// The providers of the running configuration (they change on SIGHUP).
    public let providers: @Sendable () -> ProviderSet
    public let limits: OTPIssueLimits
    public let clock: any WallClock
    public let subjectPrefix: String
    /// Called once a passcode's delivery is stored (the daemon rings the send stage so it goes out at once).
    public let issued: @Sendable () -> Void
    private let key: SymmetricKey

    /// - Parameter secret: the HMAC key (`otp.secretFile`).
    public init(
        store: any Store,
        providers: @escaping @Sendable () -> ProviderSet,
        secret: Data,
        limits: OTPIssueLimits = OTPIssueLimits(),
        clock: any WallClock = SystemWallClock(),
        subjectPrefix: String = "[Herald]",
        issued: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.providers = providers
        self.key = SymmetricKey(data: secret)
        self.limits = limits
        self.clock = clock
        self.subjectPrefix = subjectPrefix
        self.issued = issued
    }

    /// Generates, stores and queues a passcode for `to` on `channel` (`sms` or `email`) of project `projectId`.
    public func issue(projectId: String, channel: String, to: String) async throws -> Issued {
        var problems: [FieldError] = []
        let parsed = Channel(rawValue: channel)
        if parsed != .sms && parsed != .email {
            problems.append(FieldError(field: "channel", message: "must be sms or email"))
        } else if let parsed, let problem = AddressValidator.problem(with: to, on: parsed) {
            problems.append(FieldError(field: "to", message: problem))
        }
        guard problems.isEmpty, let channel = parsed else { throw Failure.invalid(problems) }
        let directory = try await store.loadDirectory()
        guard let project = directory.projects.first(where: { $0.id == projectId }) else {
            throw Failure.projectNotFound(projectId)
        }
        let settings = project.settings
        let field = channel == .sms ? "smsNotifier" : "emailNotifier"
        guard let notifierId = channel == .sms ? settings.smsNotifier : settings.emailNotifier else {
            throw Failure.invalid([
                FieldError(
                    field: field,
                    message: "project \(project.id) has no \(field) to send \(channel.rawValue) codes"
                )
            ])
        }
        guard let provider = providers().provider(id: notifierId), provider.notifier.channel == channel else {
            throw Failure.invalid([
                FieldError(field: field, message: "notifier \(notifierId) of project \(project.id) is not configured")
            ])
        }

        let now = clock.now()
        let otpId = "otp_" + Self.randomToken()
        let code = Self.generateCode(length: settings.otpCodeLength)
        let ttl = TimeInterval(settings.otpTtlSeconds)
        let expiresAt = now.addingTimeInterval(ttl)
        let eventId = "evt_" + otpId
        let stored: [JSONKey: JSONValue] = [
            "otpId": .string(otpId), "channel": .string(channel.rawValue), "ttlSeconds": .number(ttl),
        ]
        let event = Event(
            id: eventId,
            key: Catalog.otpKey,
            organization: project.organization,
            project: project.id,
            data: stored,
            recipients: [.address(channel: channel, address: to, notifier: notifierId)],
            occurredAt: now
        )
        // The code goes into the rendering only: the stored event above never holds it.
        var rendering = event
        rendering.data["code"] = .string(code)
        let recipient = Recipient(kind: .address, address: to)
        let entry = Catalog().entry(for: Catalog.otpKey)!
        let rendered = try provider.render(
            RenderInput(
                event: rendering,
                entry: entry,
                recipient: recipient,
                reason: .explicit,
                context: RenderContext(projectName: project.name ?? project.slug, subjectPrefix: subjectPrefix)
            )
        )
        let delivery = NewDelivery(
            eventId: eventId,
            channel: channel,
            notifierId: notifierId,
            recipient: recipient,
            reason: .explicit,
            destination: provider.destination(for: recipient).key,
            payload: rendered.body,
            contentType: rendered.contentType,
            expiresAt: expiresAt
        )
        let canonical = try JSONValue.object(stored.merging(["eventId": .string(eventId)]) { $1 }).canonicalData()
        let record = OTPRecord(
            id: otpId,
            projectId: project.id,
            channel: channel,
            // The key of the abuse limits: an address in another letter case is the same mailbox.
            destination: channel == .email ? to.lowercased() : to,
            codeHash: hash(otpId: otpId, code: code),
            createdAt: now,
            expiresAt: expiresAt
        )
        switch try await store.issueOTP(
            record,
            event: NewEvent(event: event, idempotencyKey: nil, canonicalBody: canonical),
            delivery: delivery,
            limits: limits,
            now: now
        ) {
        case .issued:
            issued()
            return Issued(otpId: otpId, expiresAt: expiresAt)
        case .limited(let retryAt): throw Failure.limited(retryAt: retryAt)
        }
    }

    /// Checks `code` against passcode `otpId` of project `projectId` (constant-time) and records the attempt.
    public func verify(projectId: String, otpId: String, code: String) async throws -> OTPAttemptResult {
        guard let record = try await store.otp(id: otpId), record.projectId == projectId || projectId.isEmpty else {
            return .notFound
        }
        let matched = Self.constantTimeEqual(hash(otpId: otpId, code: code), record.codeHash)
        return try await store.recordOTPAttempt(
            id: otpId,
            projectId: record.projectId,
            matched: matched,
            maxFailures: OTPRecord.maxFailedAttempts,
            now: clock.now()
        )
    }

    /// Hex HMAC-SHA-256 of `otpId:code`: binding the id keeps one passcode's hash useless for another.
    func hash(otpId: String, code: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(otpId):\(code)".utf8), using: key)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// `length` decimal digits from the system CSPRNG (`getrandom(2)` on Linux), uniformly distributed.
    static func generateCode(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<max(1, length)).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
    }

    /// 20 random bytes, base32-like lower-case (unguessable passcode ids).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return String((0..<26).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// Compares two strings in time that depends only on their lengths.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<x.count { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
