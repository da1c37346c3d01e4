import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
enum Termination: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    var description: String {
        switch self {
        case .exited(let code): "exit code \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }
}

private let slot0 = Atomic<Int32>(0)
private let slot1 = Atomic<Int32>(0)
private let slot2 = Atomic<Int32>(0)
private let slot3 = Atomic<Int32>(0)

/// Children to kill when the benchmark ends abnormally: plain atomics, so that a signal handler may read them.
enum ChildRegistry {
    /// How many children can be tracked at once.
    static let capacity = 4

    private static func withSlot<R>(_ index: Int, _ body: (borrowing Atomic<Int32>) -> R) -> R {
        switch index {
        case 0: body(slot0)
        case 1: body(slot1)
        case 2: body(slot2)
        default: body(slot3)
        }
    }

    /// Remembers `pid`; returns its slot (-1 when every slot is taken).
    static func track(_ pid: pid_t) -> Int {
        for index in 0..<capacity {
            let taken = withSlot(index) { $0.compareExchange(expected: 0, desired: pid, ordering: .relaxed).exchanged }
            if taken { return index }
        }
        return -1
    }

    /// Forgets the child in `index`.
    static func untrack(_ index: Int) {
        if index >= 0 { withSlot(index) { $0.store(0, ordering: .relaxed) } }
    }

    /// SIGKILLs and reaps every tracked child; safe to call more than once.
    static func killAll() {
        for index in 0..<capacity {
            let pid = withSlot(index) { $0.exchange(0, ordering: .relaxed) }
            if pid > 0 {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
    }

    /// On SIGINT, SIGTERM or SIGHUP the benchmark kills its children and exits 130; SIGPIPE is ignored.
    static func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { _ in
                for index in 0..<ChildRegistry.capacity {
                    let pid = ChildRegistry.withSlot(index) { $0.load(ordering: .relaxed) }
                    if pid > 0 { kill(pid, SIGKILL) }
                }
                _exit(130)
            }
        }
    }
}

/// A child process started with `posix_spawn` and reaped with `waitpid` (no SIGCHLD handler, exact status).
final class ChildProcess {
    /// The process id.
    let pid: pid_t
    /// Monotonic instant just before `posix_spawn`.
    let spawnedAt: UInt64
    private let slot: Int
    private(set) var termination: Termination?

    private init(pid: pid_t, spawnedAt: UInt64, slot: Int) {
        self.pid = pid
        self.spawnedAt = spawnedAt
        self.slot = slot
    }

    /// Starts `path` with `arguments`; `stdin`/`stdout`/`stderr` are descriptors to hand over (nil: /dev/null).
    static func spawn(
        _ path: String,
        _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        stdin: Int32? = nil,
        stdout: Int32? = nil,
        stderr: Int32? = nil
    ) throws(BenchmarkError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (source, target, flags) in [(stdin, Int32(0), O_RDONLY), (stdout, 1, O_WRONLY), (stderr, 2, O_WRONLY)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", flags, 0)
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The benchmark ignores SIGPIPE and traps SIGINT/SIGTERM/SIGHUP; the child starts with defaults.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signalNumber in [SIGPIPE, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, signalNumber) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let start = monotonicNanos()
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw BenchmarkError("cannot start \(path): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, spawnedAt: start, slot: ChildRegistry.track(pid))
    }

    /// Reaps the child if it has ended; returns how it ended, or nil while it runs.
    @discardableResult
    func poll() -> Termination? {
        if let termination { return termination }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            termination = Termination(waitStatus: status)
            ChildRegistry.untrack(slot)
        } else if result < 0 && errno == ECHILD {
            termination = .exited(-1)
            ChildRegistry.untrack(slot)
        }
        return termination
    }

    /// Whether the child still runs.
    var isRunning: Bool { poll() == nil }

    /// Waits up to `seconds` for the child to end.
    func wait(seconds: Double) -> Termination? {
        let deadline = monotonicNanos() + UInt64(seconds * 1_000_000_000)
        while poll() == nil {
            if monotonicNanos() >= deadline { return nil }
            sleep(milliseconds: 2)
        }
        return termination
    }

    /// Sends `signalNumber` if the child still runs.
    func send(_ signalNumber: Int32) {
        if isRunning { kill(pid, signalNumber) }
    }

    /// SIGTERM, then SIGKILL after `seconds`; returns how the child ended (after SIGTERM, or nil if it had to be
    /// killed).
    func stop(graceSeconds seconds: Double) -> Termination? {
        send(SIGTERM)
        if let ended = wait(seconds: seconds) { return ended }
        send(SIGKILL)
        _ = wait(seconds: 5)
        return nil
    }
}

/// Runs `path` to completion within `seconds`, stdout captured in `outputPath`; returns (termination, stdout).
func runToCompletion(
    _ path: String,
    _ arguments: [String],
    outputPath: String,
    errorPath: String,
    seconds: Double
) throws(BenchmarkError) -> (Termination, String) {
    let output = try openForWriting(outputPath)
    let errors = try openForWriting(errorPath)
    defer {
        close(output)
        close(errors)
    }
    let child = try ChildProcess.spawn(path, arguments, stdout: output, stderr: errors)
    guard let ended = child.wait(seconds: seconds) else {
        _ = child.stop(graceSeconds: 1)
        throw BenchmarkError("\(path) \(arguments.joined(separator: " ")) did not finish within \(Int(seconds)) s")
    }
    return (ended, readText(outputPath) ?? "")
}

/// Opens (creates, truncates) `path` for writing, close-on-exec.
func openForWriting(_ path: String) throws(BenchmarkError) -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw BenchmarkError("cannot write \(path): \(String(cString: strerror(errno)))") }
    return fd
}

/// The whole file as UTF-8 text (works for /proc files, whose size reads as 0).
func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes all of `bytes` to `fd`; false on error (EPIPE when the reader is gone).
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 {
            if errno == EINTR { continue }
            return false
        }
        offset += written
    }
    return true
}

/// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`).
func procStatusKB(_ pid: pid_t, _ field: String) -> Int? {
    guard let text = readText("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        let digits = line.dropFirst(field.count + 1).filter(\.isNumber)
        return Int(digits)
    }
    return nil
}

/// CPU time (user + system) `pid` has used so far, in milliseconds, from /proc/PID/stat.
func procCPUMillis(_ pid: pid_t) -> Double? {
    guard let text = readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
    // Fields after "(comm)": state is field 3, utime 14 and stime 15 (1-based), so 11 and 12 here (0-based).
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    return (user + system) * 1000 / max(1, ticks)
}
