import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel counted for one process and for the whole machine at one instant, from `/proc`: CPU time,
/// context switches summed over the process's threads, and the machine's busy and idle time. Two samples
/// around a workload show whether the daemon computed or waited (a stall shows as low CPU and many switches).
struct ProcessSample {
    /// When the sample was taken (monotonic nanoseconds).
    var at: UInt64
    /// User + system CPU time of the process, in clock ticks (`/proc/PID/stat` fields 14 and 15).
    var cpuTicks: Double
    /// Voluntary context switches (the thread blocked: a wait, a lock, I/O), summed over `/proc/PID/task/*`.
    var voluntary: Int
    /// Involuntary context switches (the thread was preempted), summed over `/proc/PID/task/*`.
    var involuntary: Int
    /// Threads of the process.
    var threads: Int
    /// Ticks of every core (`/proc/stat` line `cpu`), and of those the idle and iowait ones.
    var machineTicks: Double
    var machineIdleTicks: Double

    /// Samples `pid` and the machine now; nil when the process is gone.
    static func take(_ pid: pid_t) -> ProcessSample? {
        let now = monotonicNanos()
        guard let cpu = procCPUMillis(pid) else { return nil }
        var voluntary = 0
        var involuntary = 0
        var threads = 0
        if let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            for task in tasks {
                guard let text = readText("/proc/\(pid)/task/\(task)/status") else { continue }
                threads += 1
                for line in text.split(separator: "\n") {
                    if line.hasPrefix("voluntary_ctxt_switches:") {
                        voluntary += Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    } else if line.hasPrefix("nonvoluntary_ctxt_switches:") {
                        involuntary += Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    }
                }
            }
        }
        var total = 0.0
        var idle = 0.0
        if let stat = readText("/proc/stat"), let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ") {
            // user nice system idle iowait irq softirq steal (guest time is already inside user).
            let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
            total = fields.reduce(0, +)
            if fields.count > 4 { idle = fields[3] + fields[4] }
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ProcessSample(
            at: now,
            cpuTicks: cpu * max(1, ticks) / 1000,
            voluntary: voluntary,
            involuntary: involuntary,
            threads: threads,
            machineTicks: total,
            machineIdleTicks: idle
        )
    }
}

/// The difference of two samples: what the process did during a workload.
struct ProcessUsage {
    /// Wall time between the samples, in seconds.
    var seconds: Double
    /// CPU time the process used, in seconds.
    var cpuSeconds: Double
    var voluntary: Int
    var involuntary: Int
    /// Threads at the end.
    var threads: Int
    /// Share of the whole machine (all cores) that was idle, in percent.
    var machineIdlePercent: Double?

    init?(from start: ProcessSample?, to end: ProcessSample?) {
        guard let start, let end, end.at > start.at else { return nil }
        let ticks = max(1, Double(sysconf(Int32(_SC_CLK_TCK))))
        seconds = Double(end.at - start.at) / 1e9
        cpuSeconds = (end.cpuTicks - start.cpuTicks) / ticks
        voluntary = end.voluntary - start.voluntary
        involuntary = end.involuntary - start.involuntary
        threads = end.threads
        let machine = end.machineTicks - start.machineTicks
        machineIdlePercent = machine > 0 ? 100 * (end.machineIdleTicks - start.machineIdleTicks) / machine : nil
    }

    /// CPU used as a percentage of one core (200 = both cores of this machine busy all the time).
    var cpuPercentOfCore: Double { 100 * cpuSeconds / max(1e-9, seconds) }

    /// The figures printed next to a workload, per unit of work (`per` deliveries or events).
    func figures(per count: Int, unit: String) -> [Figure] {
        let n = Double(max(1, count))
        return [
            Figure("daemon_cpu_pct_of_core", cpuPercentOfCore, digits: 0),
            Figure("daemon_cpu_us_per_\(unit)", cpuSeconds * 1e6 / n, digits: 1),
            Figure("ctxsw_per_\(unit)", Double(voluntary + involuntary) / n, digits: 2),
            Figure("ctxsw_voluntary_per_\(unit)", Double(voluntary) / n, digits: 2),
            Figure("ctxsw_per_s", Double(voluntary + involuntary) / max(1e-9, seconds), digits: 0),
            Figure("machine_idle_pct", machineIdlePercent, digits: 0),
            Figure("daemon_threads", Double(threads), digits: 0),
        ]
    }
}
