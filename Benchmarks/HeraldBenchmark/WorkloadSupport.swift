import Foundation
import HeraldTesting

#if canImport(Glibc)
import Glibc
#endif

/// `herald status --format json`, parsed.
struct StatusCounts {
    /// Events by state (`accepted`, `fanningOut`, `fannedOut`).
    var events: [String: Int]
    /// Deliveries by state (`pending`, `leased`, `retrying`, `delivered`, `dead`).
    var deliveries: [String: Int]
    /// The command's output.
    var json: String

    /// Every event, whatever its state.
    var totalEvents: Int { events.values.reduce(0, +) }

    /// Events not fanned out yet.
    var unfinishedEvents: Int { totalEvents - (events["fannedOut"] ?? 0) }

    /// Parses the output of `herald status --format json`; nil when it is not that shape.
    init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let events = object["events"] as? [String: Any],
            let deliveries = object["deliveries"] as? [String: Any]
        else { return nil }
        self.events = events.compactMapValues(integer)
        self.deliveries = deliveries.compactMapValues(integer)
        self.json = json
    }
}

/// A JSON number as an integer.
func integer(_ value: Any) -> Int? {
    switch value {
    case let number as Int: number
    case let number as Double: Int(number)
    case let number as NSNumber: number.intValue
    default: nil
    }
}

extension BenchmarkRun {
    /// Runs `herald ARGUMENTS --config …` to completion; returns its stdout, throws with its stderr on failure.
    func runHerald(_ arguments: [String], name: String, seconds: Double = 60) throws -> String {
        guard let workdir else { throw BenchmarkError("no workdir") }
        let errorPath = workdir + "/\(name).err"
        let (ended, output) = try runToCompletion(
            herald,
            arguments + ["--config", configPath],
            outputPath: workdir + "/\(name).out",
            errorPath: errorPath,
            seconds: seconds
        )
        guard ended == .exited(0) else {
            let reason = readText(errorPath) ?? ""
            throw BenchmarkError("herald \(arguments.first ?? "") failed (\(ended)): \(reason.trimmed)")
        }
        return output
    }

    /// `herald status --format json`.
    func status() throws -> StatusCounts {
        let output = try runHerald(["status", "--format", "json"], name: "status")
        guard let counts = StatusCounts(json: output.trimmed) else {
            throw BenchmarkError("herald status printed something else than its JSON: \(output.trimmed)")
        }
        return counts
    }

    /// Writes `json` to `name.json` and imports it with `herald import`; returns how long the command took (ms).
    func importDirectory(_ json: String, name: String) throws -> Double {
        guard let workdir else { throw BenchmarkError("no workdir") }
        let path = workdir + "/\(name).json"
        try write(json, to: path)
        let start = monotonicNanos()
        let output = try runHerald(["import", path], name: "import-\(name)", seconds: 300)
        let elapsed = millis(monotonicNanos() - start)
        say("\(name): \(output.trimmed) in \(fixed(elapsed)) ms")
        return elapsed
    }

    /// Writes JSON lines to `name.jsonl` and stores them with `herald enqueue`.
    func enqueueNow(_ lines: [String], name: String) throws {
        guard let workdir else { throw BenchmarkError("no workdir") }
        let path = workdir + "/\(name).jsonl"
        try write(lines.joined(separator: "\n") + "\n", to: path)
        _ = try runHerald(["enqueue", path], name: "enqueue-\(name)")
    }

    /// Waits until every event is fanned out (nothing accepted or fanning out); returns the last status.
    func waitForFanOut(timeoutSeconds: Double) throws -> StatusCounts {
        let deadline = monotonicNanos() + UInt64(timeoutSeconds * 1e9)
        while true {
            let counts = try status()
            if counts.unfinishedEvents == 0 { return counts }
            try requireDaemonRunning()
            if monotonicNanos() >= deadline {
                throw BenchmarkError("events still waiting for fan-out after \(Int(timeoutSeconds)) s: \(counts.json)")
            }
            sleep(milliseconds: 20)
        }
    }

    /// Polls `progress` until it says done; fails when nothing moves for `stallSeconds` or `deadlineSeconds`
    /// pass. `progress` returns (done, a number that grows with progress, a description for errors).
    func waitForArrivals(
        _ label: String,
        stallSeconds: Double = 20,
        deadlineSeconds: Double = 300,
        intervalMs: Double = 1,
        progress: () throws -> (done: Bool, level: Int, detail: String)
    ) throws {
        let start = monotonicNanos()
        var lastLevel = -1
        var lastMove = start
        while true {
            let now = monotonicNanos()
            let (done, level, detail) = try progress()
            if done { return }
            if level != lastLevel {
                lastLevel = level
                lastMove = now
            }
            try requireDaemonRunning()
            if now - lastMove >= UInt64(stallSeconds * 1e9) || now - start >= UInt64(deadlineSeconds * 1e9) {
                let state = (try? status().json) ?? "status unavailable"
                throw BenchmarkError(
                    "\(label): no progress for \(Int(stallSeconds)) s or over \(Int(deadlineSeconds)) s: \(detail);"
                        + " herald status: \(state)" + logTail(daemonLogs.last ?? "")
                )
            }
            sleep(milliseconds: intervalMs)
        }
    }

    /// Messages on the SMTP sink whose `X-Herald-Event-Id` starts with `prefix`.
    func mailCount(eventPrefix prefix: String) -> Int {
        guard let smtp else { return 0 }
        let needle = Array("\r\nx-herald-event-id: ".utf8)
        let wanted = Array(prefix.utf8)
        var count = 0
        for message in smtp.messages() {
            let bytes = [UInt8](message.data)
            guard let range = Self.find(needle, in: bytes, caseInsensitive: true) else { continue }
            let start = range.upperBound
            if bytes.count >= start + wanted.count, Array(bytes[start..<(start + wanted.count)]) == wanted {
                count += 1
            }
        }
        return count
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], caseInsensitive: Bool) -> Range<Int>? {
        guard bytes.count >= needle.count, let first = needle.first else { return nil }
        func lower(_ byte: UInt8) -> UInt8 {
            caseInsensitive && (65...90).contains(byte) ? byte + 32 : byte
        }
        var index = 0
        while index + needle.count <= bytes.count {
            if lower(bytes[index]) == first {
                var matched = true
                for offset in 1..<needle.count where lower(bytes[index + offset]) != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index..<(index + needle.count) }
            }
            index += 1
        }
        return nil
    }

    /// Resets the daemon's peak RSS (`VmHWM`) through `/proc/PID/clear_refs`; false when the kernel refuses.
    func resetPeakRSS() -> Bool {
        guard let daemon else { return false }
        let fd = open("/proc/\(daemon.pid)/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return writeAll(fd, Array("5".utf8))
    }

    /// Records a failed check: printed now and in the summary, and the benchmark exits 1.
    func fail(_ check: String) {
        failedChecks.append(check)
        say("CHECK FAILED: \(check)")
    }
}
