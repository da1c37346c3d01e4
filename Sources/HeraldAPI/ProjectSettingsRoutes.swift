import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// `GET/PATCH /api/v1/projects/{id}/settings/notifications` (SPEC §11.4): the notifiers a project's email and
/// SMS (and passcodes) go through, and the passcode length and lifetime. PATCH is partial; `null` clears a
/// notifier; a notifier that is not configured or of the wrong channel is refused naming the field.
public struct ProjectSettingsRoutes: Sendable {
    let dependencies: APIDependencies

    public init(dependencies: APIDependencies) {
        self.dependencies = dependencies
    }

    public func register(on router: Router<APIRequestContext>) {
        router.get("/api/v1/projects/{id}/settings/notifications") { request, context in
            _ = try context.requirePrincipal(.settingsWrite, .directoryRead)
            let project = try await project(try context.parameters.require("id"))
            return APIResponse.json(value: settingsJSON(project.settings))
        }
        router.patch("/api/v1/projects/{id}/settings/notifications") { request, context in
            try await patch(request, context)
        }
    }

    func project(_ id: String) async throws -> Project {
        guard let project = try await dependencies.store.loadDirectory().projects.first(where: { $0.id == id }) else {
            throw APIError.notFound("project")
        }
        return project
    }

    func patch(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        _ = try context.requirePrincipal(.settingsWrite)
        let id = try context.parameters.require("id")
        let (_, value) = try await JSONBody.read(request, limit: dependencies.limits.maxBodyBytes)
        var body = try BodyObject(value, allowed: ["emailNotifier", "smsNotifier", "otpCodeLength", "otpTtlSeconds"])
        let patch = ProjectNotificationSettingsPatch(
            emailNotifier: body.integer("emailNotifier", nullable: true),
            smsNotifier: body.integer("smsNotifier", nullable: true),
            otpCodeLength: body.integer("otpCodeLength") ?? nil,
            otpTtlSeconds: body.integer("otpTtlSeconds") ?? nil
        )
        try body.check()
        var project = try await project(id)
        let notifiers = Dictionary(dependencies.notifiers.map { ($0.id, $0.channel) }) { first, _ in first }
        project.settings = try project.settings.applying(patch, notifiers: notifiers)
        try await dependencies.store.importDirectory(
            DirectoryDocument(projects: [project]),
            now: dependencies.clock.now()
        )
        return APIResponse.json(value: settingsJSON(project.settings))
    }

    func settingsJSON(_ settings: ProjectNotificationSettings) -> JSONValue {
        func notifier(_ id: Int?) -> JSONValue {
            guard let id else { return .null }
            guard let described = dependencies.notifier(id) else {
                return .object(["id": .number(Double(id)), "name": .null])
            }
            return .object(["id": .number(Double(id)), "name": .string(described.name)])
        }
        return .object([
            "emailNotifier": settings.emailNotifier.map { .number(Double($0)) } ?? .null,
            "smsNotifier": settings.smsNotifier.map { .number(Double($0)) } ?? .null,
            "otpCodeLength": .number(Double(settings.otpCodeLength)),
            "otpTtlSeconds": .number(Double(settings.otpTtlSeconds)),
            "emailNotifierData": notifier(settings.emailNotifier),
            "smsNotifierData": notifier(settings.smsNotifier),
        ])
    }
}
