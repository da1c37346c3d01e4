import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// `POST /api/v1/projects/{id}/otp` and `POST /api/v1/projects/{id}/otp/verify` (SPEC §11.6): thin handlers over
/// `OTPService`. Both need `otp:write`. The code itself is never read back, echoed or logged here: answers carry
/// the passcode's id and expiry only, and a refused code is named by its field, never by its value.
public struct OTPRoutes: Sendable {
    let dependencies: APIDependencies

    public init(dependencies: APIDependencies) {
        self.dependencies = dependencies
    }

    public func register(on router: Router<APIRequestContext>) {
        router.post("/api/v1/projects/{id}/otp") { request, context in try await issue(request, context) }
        router.post("/api/v1/projects/{id}/otp/verify") { request, context in try await verify(request, context) }
    }

    /// The passcode service, or 503 when the configuration has no `otp.secretFile`.
    func service() throws(APIError) -> OTPService {
        guard let service = dependencies.otp else {
            throw APIError(
                .serviceUnavailable,
                .otpNotConfigured,
                "one-time passcodes are not configured on this server (otp.secretFile)"
            )
        }
        return service
    }

    func issue(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.otpWrite)
        let service = try service()
        let projectId = try context.parameters.require("id")
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["channel", "to"])
        let channel = body.string("channel", required: true)
        let to = body.string("to", required: true)
        try body.check()
        do {
            let issued = try await service.issue(projectId: projectId, channel: channel!, to: to!)
            return APIResponse.json(
                value: .object([
                    "otpId": .string(issued.otpId),
                    "expiresAt": .string(Timestamp.format(issued.expiresAt)),
                ]),
                status: .accepted
            )
        } catch let failure as OTPService.Failure {
            switch failure {
            case .invalid(let problems): throw APIError.validation(problems)
            case .projectNotFound: throw APIError.notFound("project")
            case .limited(let retryAt):
                let seconds = max(1, Int(retryAt.timeIntervalSince(service.clock.now()).rounded(.up)))
                var headers = HTTPFields()
                headers[.retryAfter] = String(seconds)
                throw APIError(
                    .tooManyRequests,
                    .rateLimited,
                    "too many passcodes to this destination; another may be issued in \(seconds) s",
                    headers: headers
                )
            }
        }
    }

    func verify(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.otpWrite)
        let service = try service()
        let projectId = try context.parameters.require("id")
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["otpId", "code"])
        let otpId = body.string("otpId", required: true)
        let code = body.string("code", required: true)
        if let otpId, otpId.isEmpty || otpId.utf8.count > 64 {
            body.fail("otpId", "must be the otpId the passcode was issued with")
        }
        if let code, !Self.isCodeShaped(code) {
            body.fail("code", "must be a string of 4 to 10 digits")
        }
        try body.check()
        switch try await service.verify(projectId: projectId, otpId: otpId!, code: code!) {
        case .verified:
            return APIResponse.json(value: .object(["verified": .bool(true)]))
        case .wrong(let remaining):
            let tries = remaining == 1 ? "1 try" : "\(remaining) tries"
            throw APIError(
                .badRequest,
                .otpInvalid,
                "the code is wrong; \(tries) left before the passcode locks",
                details: [FieldError(field: "code", message: "is wrong; \(tries) left")]
            )
        case .alreadyUsed:
            throw APIError(
                .badRequest,
                .otpInvalid,
                "the passcode was already verified; a code verifies once",
                details: [FieldError(field: "otpId", message: "was already verified")]
            )
        case .expired:
            throw APIError(
                .badRequest,
                .otpExpired,
                "the passcode has expired; issue a new one",
                details: [FieldError(field: "otpId", message: "has expired")]
            )
        case .locked:
            throw APIError(
                HTTPResponse.Status(code: 423, reasonPhrase: "Locked"),
                .otpLocked,
                "the passcode is locked after \(OTPRecord.maxFailedAttempts) wrong codes; issue a new one"
            )
        case .notFound:
            throw APIError.notFound("passcode")
        }
    }

    /// 4 to 10 ASCII digits: the shape of every code `otpCodeLength` allows.
    static func isCodeShaped(_ code: String) -> Bool {
        (4...10).contains(code.utf8.count) && code.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }
}
