import Foundation
import Prometheus
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics of the Prometheus client libraries, read from `/proc/self` at each scrape
/// (Linux only; elsewhere they stay at 0).
final class ProcessMetrics: Sendable {
    enum Name {
        static let residentMemory = "process_resident_memory_bytes"
        static let virtualMemory = "process_virtual_memory_bytes"
        static let cpuSeconds = "process_cpu_seconds_total"
        static let openFDs = "process_open_fds"
        static let maxFDs = "process_max_fds"
        static let startTime = "process_start_time_seconds"
    }

    /// What `/proc` says about the process at one moment.
    struct Sample: Equatable {
        var residentBytes: Double
        var virtualBytes: Double
        var cpuSeconds: Double
        var startTime: Double
        var openFDs: Double
        var maxFDs: Double?
    }

    private let resident: Gauge
    private let virtual: Gauge
    private let cpu: Prometheus.Counter
    private let openFDs: Gauge
    private let maxFDs: Gauge
    private let startTime: Gauge
    /// The CPU seconds already added to the counter (a Prometheus counter only goes up by increments).
    private let countedCPU = Mutex<Double>(0)

    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String) -> Gauge { registry.makeGauge(descriptor: HeraldMetricsFactory.descriptor(name)) }
        resident = gauge(Name.residentMemory)
        virtual = gauge(Name.virtualMemory)
        cpu = registry.makeCounter(descriptor: HeraldMetricsFactory.descriptor(Name.cpuSeconds))
        openFDs = gauge(Name.openFDs)
        maxFDs = gauge(Name.maxFDs)
        startTime = gauge(Name.startTime)
    }

    /// Reads `/proc/self` and updates the metrics; a read that fails leaves the previous values.
    func refresh() {
        guard let sample = Self.read() else { return }
        resident.set(to: sample.residentBytes)
        virtual.set(to: sample.virtualBytes)
        openFDs.set(to: sample.openFDs)
        if let limit = sample.maxFDs { maxFDs.set(to: limit) }
        startTime.set(to: sample.startTime)
        let delta = countedCPU.withLock { counted -> Double in
            let delta = max(0, sample.cpuSeconds - counted)
            counted += delta
            return delta
        }
        if delta > 0 { cpu.increment(by: delta) }
    }

    /// One sample of this process, or nil where `/proc` is not there.
    static func read() -> Sample? {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let boot = bootTime()
        else { return nil }
        guard let fields = statFields(stat) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        let openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count).map(Double.init)
        var limit = rlimit()
        let maxFDs = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : nil
        return Sample(
            residentBytes: fields.rssPages * page,
            virtualBytes: fields.virtualBytes,
            cpuSeconds: (fields.userTicks + fields.systemTicks) / ticks,
            startTime: boot + fields.startTicks / ticks,
            openFDs: openFDs ?? 0,
            maxFDs: maxFDs
        )
        #else
        return nil
        #endif
    }

    /// The fields of `/proc/self/stat` we need (proc(5)); the command name in parentheses may hold spaces, so
    /// counting starts after its closing parenthesis.
    static func statFields(
        _ stat: String
    ) -> (userTicks: Double, systemTicks: Double, startTicks: Double, virtualBytes: Double, rssPages: Double)? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is the first; utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double? {
            let index = number - 3
            return index < rest.count ? Double(rest[index]) : nil
        }
        guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23),
            let rss = field(24)
        else { return nil }
        return (user, system, start, virtual, rss)
    }

    /// System boot time in seconds since the epoch (`btime` in `/proc/stat`).
    private static func bootTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst("btime ".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
