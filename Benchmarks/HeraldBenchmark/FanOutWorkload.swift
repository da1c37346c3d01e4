import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The W5 measurements.
struct FanOutResults {
    var members = 0
    var events = 0
    var recipientsPerEvent = 0
    var importMs: Double?
    var enqueueMs: Double?
    /// From the end of `herald enqueue` until `herald status` shows every event fanned out.
    var fanOutMs: Double?
    var fanOutMsPerEvent: Double?
    /// From the start of `herald enqueue` until every event is fanned out.
    var fanOutFromStartMs: Double?
    /// CPU time the daemon used from the start of `herald enqueue` until every event was fanned out (fan-out plus
    /// the send stage working in parallel), per event.
    var daemonCPUMsPerEvent: Double?
    var statusPolls = 0
    var statusPollMeanMs: Double?
    /// From the end of `herald enqueue` until the last Slack request or email arrived.
    var deliveredMs: Double?
    var slack = 0
    var email = 0
    var mailWithEventIds = 0
    var explainDeliveries: Int?
    var explainChannels: [String: Int] = [:]
    var explainFallthroughLimit: Int?
    var explainOtherSuppressions: [String: Int] = [:]
    var explainRecipients: Int?
    var explainMostRecent: Bool?
    var peakRSSKB: Int?
    var sampledPeakRSSKB: Int?
    /// What the daemon did from the start of `herald enqueue` until every event was fanned out.
    var usage: ProcessUsage?
}

extension BenchmarkRun {
    /// W5 fan-out (SPEC §16, §6.3): ownerless `issue_alert` events on a project whose team has `members` active
    /// members fall through to the 20 most recently active, each on email and Slack. Times the fan-out stage from
    /// `herald status` (every event fanned out) and checks what the sinks and `herald explain` show.
    func fanOut() throws {
        guard let workdir, let daemon else { throw BenchmarkError("no daemon") }
        let members = options.fanOutMembers
        let count = options.fanOutEvents
        let limit = 20
        let recipients = min(limit, members)
        let perEvent = recipients * 2
        var fan = FanOutResults(members: members, events: count, recipientsPerEvent: recipients)
        fan.importMs = try importDirectory(BenchmarkDirectory.fanOut(members: members), name: "w5-directory")

        // One untimed event first: the daemon reloads its directory snapshot (now `members` users larger) when
        // it fans out the first event after the import; that reload is set-up, not fan-out cost.
        let warmMail = recorder.mailCount
        try enqueueNow([BenchmarkDirectory.fanOutEvent(id: "w5warm-1", issue: "aw", number: 0)], name: "w5-warmup")
        try waitForArrivals("W5 warm-up", stallSeconds: 30) {
            let slack = recorder.arrivals("w5warm")[.slack]
            let mail = recorder.mailCount - warmMail
            return (slack >= recipients && mail >= recipients, slack + mail, "slack=\(slack) email=\(mail)")
        }
        expectedDelivered += perEvent
        _ = try waitForDelivered(expectedDelivered, timeoutSeconds: 15)
        let baseline = try waitForFanOut(timeoutSeconds: 30)
        let target = baseline.totalEvents + count
        say("W5: warm-up alert delivered to \(recipients) members on email and Slack")

        var lines: [String] = []
        lines.reserveCapacity(count)
        for number in 1...count {
            lines.append(BenchmarkDirectory.fanOutEvent(id: "w5-\(number)", issue: "a\(number)", number: number))
        }
        let inputPath = workdir + "/w5.jsonl"
        try write(lines.joined(separator: "\n") + "\n", to: inputPath)
        say("W5: \(count) issue_alert events on a \(members)-member project written to \(inputPath); enqueueing")

        let mailBase = recorder.mailCount
        let resetPeak = resetPeakRSS()
        var sampledPeak = procStatusKB(daemon.pid, "VmRSS") ?? 0
        let outputFD = try openForWriting(workdir + "/enqueue-w5.out")
        let errorFD = try openForWriting(workdir + "/enqueue-w5.err")
        let cpuStart = procCPUMillis(daemon.pid)
        let before = ProcessSample.take(daemon.pid)
        let start = monotonicNanos()
        let enqueue: ChildProcess
        do {
            defer {
                close(outputFD)
                close(errorFD)
            }
            enqueue = try ChildProcess.spawn(
                herald,
                ["enqueue", "--config", configPath, inputPath],
                stdout: outputFD,
                stderr: errorFD
            )
        }
        guard let ended = enqueue.wait(seconds: 60) else {
            _ = enqueue.stop(graceSeconds: 1)
            throw BenchmarkError("W5: herald enqueue did not finish within 60 s")
        }
        let enqueueEnd = monotonicNanos()
        guard ended == .exited(0) else {
            let reason = readText(workdir + "/enqueue-w5.err") ?? ""
            throw BenchmarkError("W5: herald enqueue failed (\(ended)): \(reason.trimmed)")
        }
        fan.enqueueMs = millis(enqueueEnd - start)

        // Poll `herald status` every 2 ms (--w5-poll-ms) until every event is fanned out; a poll's answer counts when it returns.
        var pollTotal: UInt64 = 0
        var fannedOutAt: UInt64?
        let deadline = enqueueEnd + 120_000_000_000
        while fannedOutAt == nil {
            let pollStart = monotonicNanos()
            let counts = try status()
            let pollEnd = monotonicNanos()
            pollTotal += pollEnd - pollStart
            fan.statusPolls += 1
            sampledPeak = max(sampledPeak, procStatusKB(daemon.pid, "VmRSS") ?? 0)
            if (counts.events["fannedOut"] ?? 0) >= target {
                fannedOutAt = pollEnd
                fan.usage = ProcessUsage(from: before, to: ProcessSample.take(daemon.pid))
                if let cpuStart, let cpuEnd = procCPUMillis(daemon.pid) {
                    fan.daemonCPUMsPerEvent = (cpuEnd - cpuStart) / Double(count)
                }
                break
            }
            try requireDaemonRunning()
            if pollEnd >= deadline {
                throw BenchmarkError("W5: events not fanned out within 120 s: \(counts.json)")
            }
            sleep(milliseconds: options.fanOutPollMs)
        }
        if let fannedOutAt {
            fan.fanOutMs = millis(fannedOutAt - enqueueEnd)
            fan.fanOutMsPerEvent = millis(fannedOutAt - enqueueEnd) / Double(count)
            fan.fanOutFromStartMs = millis(fannedOutAt - start)
        }
        fan.statusPollMeanMs = millis(pollTotal) / Double(max(1, fan.statusPolls))
        say(
            "W5: enqueue command \(fixed(fan.enqueueMs ?? 0)) ms; all \(count) events fanned out "
                + "\(fixed(fan.fanOutMs ?? 0)) ms after it ended (\(fixed(fan.fanOutMsPerEvent ?? 0, 2)) ms/event, "
                + "\(fan.statusPolls) status polls of \(fixed(fan.statusPollMeanMs ?? 0)) ms)"
        )

        try waitForArrivals("W5 deliveries", stallSeconds: 20, deadlineSeconds: 300, intervalMs: 5) {
            let slack = recorder.arrivals("w5")[.slack]
            let mail = recorder.mailCount - mailBase
            sampledPeak = max(sampledPeak, procStatusKB(daemon.pid, "VmRSS") ?? 0)
            let done = slack >= count * recipients && mail >= count * recipients
            return (done, slack + mail, "slack=\(slack) email=\(mail) expected \(count * recipients) each")
        }
        let http = recorder.arrivals("w5")
        let mail = recorder.mail(after: mailBase)
        fan.deliveredMs = millis(max(http.last, mail.last) - enqueueEnd)
        fan.sampledPeakRSSKB = sampledPeak
        fan.peakRSSKB = resetPeak ? procStatusKB(daemon.pid, "VmHWM") : nil
        expectedDelivered += count * perEvent
        let status = try waitForDelivered(expectedDelivered, timeoutSeconds: 15)
        say("W5: herald status: \(status.json)")
        guard status.delivered == expectedDelivered else {
            throw BenchmarkError(
                "W5: herald status reports \(status.delivered) delivered, expected \(expectedDelivered)"
            )
        }

        // Late duplicates would show up now; the counts must be exact.
        sleep(milliseconds: 300)
        let settled = recorder.arrivals("w5")
        fan.slack = settled[.slack]
        fan.email = recorder.mailCount - mailBase
        fan.mailWithEventIds = mailCount(eventPrefix: "w5-")
        if fan.slack != count * recipients {
            fail("W5: the sink saw \(fan.slack) Slack requests, expected \(count * recipients)")
        }
        if fan.email != count * recipients || fan.mailWithEventIds != count * recipients {
            fail(
                "W5: the SMTP sink got \(fan.email) emails (\(fan.mailWithEventIds) with a w5- event id), "
                    + "expected \(count * recipients)"
            )
        }
        if settled.count != settled[.slack] { fail("W5: \(settled.count - settled[.slack]) unexpected requests") }
        try explainFanOut(&fan, eventId: "w5-1", limit: limit)
        results.fanOut = fan
    }

    /// `herald explain` of one W5 event: 2 deliveries for each of the `limit` most recently active members,
    /// everyone else suppressed as `fallthrough_limit`.
    private func explainFanOut(_ fan: inout FanOutResults, eventId: String, limit: Int) throws {
        let output = try runHerald(["explain", eventId, "--format", "json"], name: "explain-w5")
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
            let deliveries = object["deliveries"] as? [[String: Any]],
            let suppressed = object["suppressed"] as? [[String: Any]]
        else {
            throw BenchmarkError("herald explain \(eventId) printed something else than its JSON")
        }
        let recipients = min(limit, fan.members)
        fan.explainDeliveries = deliveries.count
        var users = Set<String>()
        for delivery in deliveries {
            fan.explainChannels[delivery["channel"] as? String ?? "?", default: 0] += 1
            if let recipient = delivery["recipient"] as? String {
                users.insert(recipient.hasPrefix("user:") ? String(recipient.dropFirst(5)) : recipient)
            }
        }
        fan.explainRecipients = users.count
        var limited = 0
        for row in suppressed {
            let reason = row["reason"] as? String ?? "?"
            if reason == "fallthrough_limit" {
                limited += 1
            } else {
                fan.explainOtherSuppressions[reason, default: 0] += 1
            }
        }
        fan.explainFallthroughLimit = limited
        let expected = Set(BenchmarkDirectory.mostRecentlyActive(members: fan.members, limit: limit))
        fan.explainMostRecent = users == expected
        say(
            "W5: explain \(eventId): \(deliveries.count) deliveries \(fan.explainChannels) to \(users.count) users, "
                + "\(limited) fallthrough_limit suppressions, other suppressions \(fan.explainOtherSuppressions)"
        )
        if deliveries.count != recipients * 2 || fan.explainChannels["email"] != recipients
            || fan.explainChannels["slack"] != recipients
        {
            fail(
                "W5: explain lists \(deliveries.count) deliveries \(fan.explainChannels), expected \(recipients) email + \(recipients) slack"
            )
        }
        if limited != fan.members - recipients {
            fail("W5: explain lists \(limited) fallthrough_limit suppressions, expected \(fan.members - recipients)")
        }
        if users != expected {
            let missing = expected.subtracting(users).sorted().prefix(5).joined(separator: ",")
            fail("W5: the delivered users are not the \(recipients) most recently active (missing \(missing))")
        }
    }
}
