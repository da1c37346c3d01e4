import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The W2 measurements.
struct MixedResults {
    var events = 0
    var deliveries = 0
    var importMs: Double?
    var enqueueMs: Double?
    var firstDeliveryMs: Double?
    var lastDeliveryMs: Double?
    var endToEndPerSecond: Double?
    var sinkWindowPerSecond: Double?
    var perChannel: [SinkRecorder.Channel: Int] = [:]
    var mailWithEventIds = 0
    var delivered: Int?
    var peakRSSKB: Int?
    var sampledPeakRSSKB: Int?
    var usage: ProcessUsage?
}

extension BenchmarkRun {
    /// The channels of every W2 event.
    static let mixedChannels: [SinkRecorder.Channel] = [.email, .slack, .msteams, .pagerduty, .sms]

    /// W2 mixed (SPEC §16): `escalating` events whose single subscriber-by-preference gets email, Slack, Teams and
    /// SMS, plus the project's PagerDuty route — 5 deliveries each, all to local sinks with pacing off.
    func mixed() throws {
        guard let workdir, let daemon, let sink else { throw BenchmarkError("no daemon") }
        let count = options.mixedEvents
        let perEvent = Self.mixedChannels.count
        var mixed = MixedResults(events: count, deliveries: count * perEvent)
        mixed.importMs = try importDirectory(
            BenchmarkDirectory.mixed(teamsWebhook: sink.baseURL + "/teams/u1"),
            name: "w2-directory"
        )

        // One untimed event first: the daemon reloads its directory snapshot after the import and opens its
        // connections to the SMTP sink; the timed run measures the steady pipeline.
        let warmMail = recorder.mailCount
        try enqueueNow([BenchmarkDirectory.mixedEvent(id: "w2warm-1", issue: "iw", number: 0)], name: "w2-warmup")
        try waitForArrivals("W2 warm-up", stallSeconds: 30) {
            let http = recorder.arrivals("w2warm").count
            let mail = recorder.mailCount - warmMail
            return (http >= perEvent - 1 && mail >= 1, http + mail, "http=\(http) mail=\(mail)")
        }
        expectedDelivered += perEvent
        _ = try waitForDelivered(expectedDelivered, timeoutSeconds: 15)
        say("W2: warm-up event delivered on all \(perEvent) channels")

        var lines: [String] = []
        lines.reserveCapacity(count)
        for number in 1...count {
            lines.append(BenchmarkDirectory.mixedEvent(id: "w2-\(number)", issue: "i\(number)", number: number))
        }
        let inputPath = workdir + "/w2.jsonl"
        try write(lines.joined(separator: "\n") + "\n", to: inputPath)
        say("W2: \(count) escalating events (\(count * perEvent) deliveries) written to \(inputPath); enqueueing")

        let mailBase = recorder.mailCount
        let resetPeak = resetPeakRSS()
        let outputFD = try openForWriting(workdir + "/enqueue-w2.out")
        let errorFD = try openForWriting(workdir + "/enqueue-w2.err")
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
        var enqueueEnd: UInt64?
        var sampledPeak = 0
        var nextSample: UInt64 = 0
        do {
            try waitForArrivals("W2", stallSeconds: 20, deadlineSeconds: 300) {
                let now = monotonicNanos()
                if enqueueEnd == nil, let ended = enqueue.poll() {
                    enqueueEnd = now
                    guard ended == .exited(0) else {
                        let reason = readText(workdir + "/enqueue-w2.err") ?? ""
                        throw BenchmarkError("herald enqueue failed (\(ended)): \(reason.trimmed)")
                    }
                }
                if now >= nextSample {
                    sampledPeak = max(sampledPeak, procStatusKB(daemon.pid, "VmRSS") ?? 0)
                    nextSample = now + 100_000_000
                }
                let http = recorder.arrivals("w2")
                let mail = recorder.mail(after: mailBase)
                let done = http.count >= count * (perEvent - 1) && mail.count >= count
                let detail = Self.mixedChannels.map { channel in
                    "\(channel.name)=\(channel == .email ? mail.count : http[channel])"
                }
                return (done, http.count + mail.count, detail.joined(separator: " "))
            }
        } catch {
            enqueue.send(SIGKILL)
            _ = enqueue.wait(seconds: 5)
            throw error
        }
        if enqueueEnd == nil {
            guard let ended = enqueue.wait(seconds: 30) else {
                _ = enqueue.stop(graceSeconds: 1)
                throw BenchmarkError("W2: herald enqueue did not exit after every delivery arrived")
            }
            enqueueEnd = monotonicNanos()
            guard ended == .exited(0) else { throw BenchmarkError("W2: herald enqueue failed (\(ended))") }
        }
        mixed.usage = ProcessUsage(from: before, to: ProcessSample.take(daemon.pid))
        let http = recorder.arrivals("w2")
        let mail = recorder.mail(after: mailBase)
        let first = min(http.first, mail.first)
        let last = max(http.last, mail.last)
        let total = http.count + mail.count
        mixed.sampledPeakRSSKB = max(sampledPeak, procStatusKB(daemon.pid, "VmRSS") ?? 0)
        mixed.peakRSSKB = resetPeak ? procStatusKB(daemon.pid, "VmHWM") : nil
        mixed.enqueueMs = enqueueEnd.map { millis($0 - start) }
        mixed.firstDeliveryMs = millis(first - start)
        mixed.lastDeliveryMs = millis(last - start)
        mixed.endToEndPerSecond = Double(total) / max(1e-9, Double(last - start) / 1e9)
        if total > 1 && last > first {
            mixed.sinkWindowPerSecond = Double(total - 1) / (Double(last - first) / 1e9)
        }
        say(
            "W2: enqueue command \(fixed(mixed.enqueueMs ?? 0)) ms; first delivery at "
                + "\(fixed(mixed.firstDeliveryMs ?? 0)) ms, \(total)th at \(fixed(mixed.lastDeliveryMs ?? 0)) ms"
        )

        expectedDelivered += count * perEvent
        let status = try waitForDelivered(expectedDelivered, timeoutSeconds: 15)
        say("W2: herald status: \(status.json)")
        mixed.delivered = status.delivered - (expectedDelivered - count * perEvent)
        guard status.delivered == expectedDelivered else {
            throw BenchmarkError(
                "W2: herald status reports \(status.delivered) delivered, expected \(expectedDelivered)"
            )
        }
        // Late duplicates would show up now; the counts must be exact.
        sleep(milliseconds: 300)
        let settled = recorder.arrivals("w2")
        for channel in Self.mixedChannels {
            mixed.perChannel[channel] =
                channel == .email ? recorder.mail(after: mailBase).count : settled[channel]
        }
        mixed.mailWithEventIds = mailCount(eventPrefix: "w2-")
        for channel in Self.mixedChannels where mixed.perChannel[channel] != count {
            fail("W2: \(channel.name) received \(mixed.perChannel[channel] ?? 0) deliveries, expected \(count)")
        }
        if settled[.other] > 0 { fail("W2: \(settled[.other]) requests to unexpected paths") }
        if mixed.mailWithEventIds != count {
            fail("W2: \(mixed.mailWithEventIds) emails carry a w2- event id, expected \(count)")
        }
        results.mixed = mixed
    }
}
