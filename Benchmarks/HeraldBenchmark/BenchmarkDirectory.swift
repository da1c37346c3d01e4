import Foundation

/// The directories (SPEC §5.2 import shape) and the events of W2 and W5.
enum BenchmarkDirectory {
    /// The PagerDuty routing key of the W2 project's route.
    static let routingKey = "0123456789abcdef0123456789abcdef"

    /// The organization both workloads use (`herald import` upserts it).
    private static let organization = #"{"id":"acme","slug":"acme","name":"Acme Inc."}"#

    // MARK: - W2 mixed

    /// W2: org `acme`; user `u1` with every personal address (Teams webhook on the sink); team `t1` [u1]; project
    /// `p1` (`backend`) with a PagerDuty route for every key; `u1` opts into all workflow events (`always`) and
    /// switches Teams and SMS on (email and Slack are on by default).
    static func mixed(teamsWebhook: String) -> String {
        let user =
            #"{"id":"u1","organization":"acme","name":"Ann Lee","email":"ann@acme.test","emailVerified":true,"#
            + #""phone":"+15550000001","slackId":"U0000000001","msteamsWebhook":\#(json(teamsWebhook)),"#
            + #""timezone":"Europe/Berlin","lastActiveAt":"2026-11-20T10:00:00Z","isActive":true,"#
            + #""selfNotifications":false}"#
        let team = #"{"id":"t1","organization":"acme","slug":"backend-team","members":["u1"]}"#
        let project =
            #"{"id":"p1","organization":"acme","slug":"backend","name":"Backend","teams":["t1"],"#
            + #""routes":[{"id":"pd","channel":"pagerduty","notifier":3,"target":"\#(routingKey)","filter":{}}]}"#
        let preferences = [
            #"{"user":"u1","scope":"user","scopeId":"u1","subject":"workflow","channel":null,"value":"always"}"#,
            #"{"user":"u1","scope":"user","scopeId":"u1","subject":"workflow","channel":"msteams","value":"always"}"#,
            #"{"user":"u1","scope":"user","scopeId":"u1","subject":"workflow","channel":"sms","value":"always"}"#,
        ]
        return #"{"organizations":[\#(organization)],"users":[\#(user)],"teams":[\#(team)],"#
            + #""projects":[\#(project)],"preferences":[\#(preferences.joined(separator: ","))]}"#
    }

    /// One W2 event as a JSON line: `escalating` on `backend`, its own issue, no actor.
    static func mixedEvent(id: String, issue: String, number: Int) -> String {
        #"{"id":"\#(id)","key":"escalating","organization":"acme","project":"backend","actor":null,"#
            + #""issue":{"id":"\#(issue)","shortId":"BACKEND-\#(number)","title":"TypeError: x is undefined (\#(number))","#
            + #""url":"https://tracker.example/acme/issues/\#(issue)/","level":"error","culprit":"app/models.py in save","#
            + #""environment":"production"},"data":{}}"#
    }

    // MARK: - W5 fan-out

    /// The W5 member `index` (1-based).
    static func fanOutUser(_ index: Int) -> String { "m\(index)" }

    /// Minutes after the base time of member `index`'s `lastActiveAt`: a permutation of 0..<members (7919 is
    /// prime), so that every member has a distinct time and recency is not the import order.
    static func activityRank(_ index: Int, members: Int) -> Int {
        Int((Int64(index) * 7919) % Int64(members))
    }

    /// The ids of the `limit` most recently active members, most recent first.
    static func mostRecentlyActive(members: Int, limit: Int) -> [String] {
        (1...members).sorted { activityRank($0, members: members) > activityRank($1, members: members) }
            .prefix(limit).map(fanOutUser)
    }

    /// W5: org `acme`; `members` active users with verified emails, Slack ids, no phone and distinct
    /// `lastActiveAt`; team `t5` with all of them; project `p5` (`fanout`) with no ownership rules and the default
    /// fallthrough (`activeMembers`).
    static func fanOut(members: Int) -> String {
        let base = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var users: [String] = []
        users.reserveCapacity(members)
        var ids: [String] = []
        ids.reserveCapacity(members)
        for index in 1...members {
            let id = fanOutUser(index)
            let active = formatter.string(
                from: base.addingTimeInterval(Double(activityRank(index, members: members)) * 60)
            )
            let slack = "U" + String(repeating: "0", count: max(0, 10 - String(index).count)) + String(index)
            users.append(
                #"{"id":"\#(id)","organization":"acme","name":"Member \#(index)","email":"\#(id)@acme.test","#
                    + #""emailVerified":true,"slackId":"\#(slack)","timezone":"UTC","lastActiveAt":"\#(active)","#
                    + #""isActive":true}"#
            )
            ids.append(json(id))
        }
        let team = #"{"id":"t5","organization":"acme","slug":"fanout-team","members":[\#(ids.joined(separator: ","))]}"#
        let project = #"{"id":"p5","organization":"acme","slug":"fanout","name":"Fan-out","teams":["t5"]}"#
        return #"{"organizations":[\#(organization)],"users":[\#(users.joined(separator: ","))],"#
            + #""teams":[\#(team)],"projects":[\#(project)]}"#
    }

    /// One W5 event as a JSON line: an `issue_alert` for the issue owners of its own issue; no ownership rule
    /// matches (no `paths`), so the project's fallthrough applies.
    static func fanOutEvent(id: String, issue: String, number: Int) -> String {
        #"{"id":"\#(id)","key":"issue_alert","organization":"acme","project":"fanout","actor":null,"#
            + #""issue":{"id":"\#(issue)","shortId":"FANOUT-\#(number)","title":"ValueError: bad input (\#(number))","#
            + #""url":"https://tracker.example/acme/issues/\#(issue)/","level":"error","environment":"production"},"#
            + #""data":{"rule":{"id":"r1","name":"High error rate"},"target":{"type":"issueOwners"}}}"#
    }

    /// A JSON string literal (the benchmark's strings are ASCII without quotes or backslashes, but stay safe).
    private static func json(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
