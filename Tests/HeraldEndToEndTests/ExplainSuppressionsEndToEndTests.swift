import Foundation
import Testing

extension EndToEndTests {
    /// An alert whose only owner is outside the project, with the project's fallthrough reaching a member who has
    /// no verified email: `herald explain` names the new suppression reasons of SPEC §6.3.
    @Test("explain shows not_project_member and inactive_member for an alert's outsiders", .timeLimit(.minutes(2)))
    func explainShowsMembershipSuppressions() async throws {
        let env = try HeraldEnvironment()
        defer { env.close() }
        let directory = #"""
            {"organizations":[{"id":"acme","slug":"acme","name":"Acme"}],
             "users":[
               {"id":"u1","organization":"acme","name":"Ann","email":"ann@acme.test","emailVerified":true,
                "slackId":"U0000000001","lastActiveAt":"2026-11-20T10:00:00Z"},
               {"id":"u2","organization":"acme","name":"Old","email":"old@acme.test","isActive":false},
               {"id":"zoe","organization":"acme","name":"Zoe","email":"zoe@acme.test","emailVerified":true,
                "slackId":"U0000000009"}],
             "teams":[{"id":"t1","organization":"acme","slug":"backend-team","members":["u1","u2"]},
                      {"id":"t9","organization":"acme","slug":"outsiders","members":["zoe"]}],
             "projects":[{"id":"p1","organization":"acme","slug":"backend","name":"Backend","teams":["t1"],
                          "fallthrough":"allMembers","ownership":["path:src/** zoe@acme.test"]}]}
            """#
        try await env.importDirectory(Data(directory.utf8))
        let event = #"""
            {"id":"alert-1","key":"issue_alert","organization":"acme","project":"backend",
             "issue":{"id":"9001","shortId":"BACKEND-1A","title":"TypeError","level":"error"},
             "data":{"rule":{"id":"r1","name":"Errors"},"target":{"type":"issueOwners"},"paths":["src/app.py"]}}
            """#
        let enqueued = try await env.enqueue(Data(event.replacingOccurrences(of: "\n", with: "").utf8))
        #expect(enqueued.exitCode == 0, "\(enqueued)")
        let daemon = try await env.startDaemon()
        var report: [String: Any] = [:]
        try await eventually("alert-1 fanned out", timeout: .seconds(30)) {
            let result = try await env.run(["explain", "alert-1", "--format", "json"])
            guard result.exitCode == 0,
                let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            else { return false }
            report = object
            return !((object["suppressed"] as? [Any]) ?? []).isEmpty
        }
        daemon.signal(SIGTERM)
        _ = await daemon.waitForExit(timeout: .seconds(15))
        let suppressed = (report["suppressed"] as? [[String: Any]]) ?? []
        let reasons = Dictionary(
            suppressed.map { (($0["recipient"] as? String) ?? "", ($0["reason"] as? String) ?? "") },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(reasons["user:zoe"] == "not_project_member", "\(suppressed)")
        #expect(reasons["user:u2"] == "inactive_member", "\(suppressed)")
        let deliveries = (report["deliveries"] as? [[String: Any]]) ?? []
        #expect(!deliveries.contains { (($0["recipient"] as? String) ?? "").contains("zoe") }, "\(deliveries)")
        let text = try await env.run(["explain", "alert-1"])
        #expect(text.stdout.contains("reason=not_project_member"), "\(text.stdout)")
    }
}
