import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Calls back when another process announced a write to the database: every `SQLiteStore` opened with
/// `announcesWrites` (the command line: `herald enqueue`, `deliveries retry`, `import`) touches the wake file
/// next to the database after each committed transaction, and inotify on the database's directory reports it,
/// so the daemon wakes at once and does not have to poll while idle.
///
/// The daemon's own writes do not announce themselves, so they never wake it: watching the database and its
/// write-ahead log instead woke the watcher thread on every one of the daemon's own commits (thousands a second
/// under load, each a context switch and a ring of both stages). A writer that does not announce (another tool)
/// is still noticed by the stages' polling.
public final class SQLiteChangeWatcher: Sendable {
    private let descriptor: Int32
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)

    /// Starts watching the directory of `databasePath`; nil when inotify is unavailable (the stages then
    /// fall back to polling).
    public init?(databasePath: String, onChange: @escaping @Sendable () -> Void) {
        #if canImport(Glibc)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let directory = URL(fileURLWithPath: databasePath).deletingLastPathComponent().path
        let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
        let name = URL(fileURLWithPath: WriteAnnouncer.wakePath(databasePath: databasePath)).lastPathComponent
        let thread = Thread { [self] in self.loop(wakeName: name, onChange: onChange) }
        thread.name = "herald-sqlite-watch"
        thread.start()
        #else
        return nil
        #endif
    }

    /// Stops watching; returns once the watcher thread has let go of its descriptor.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        while !finished.withLock({ $0 }) {
            usleep(1000)
        }
        close(descriptor)
    }

    deinit {
        stop()
    }

    private func loop(wakeName: String, onChange: @Sendable () -> Void) {
        #if canImport(Glibc)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopped.load(ordering: .relaxed) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            // Wake at least every 100 ms to notice stop().
            let ready = poll(&poller, 1, 100)
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { continue }
            if Self.mentions(wakeName, in: buffer, count: count) { onChange() }
        }
        finished.withLock { $0 = true }
        #endif
    }

    /// Whether any event in the buffer concerns the file named `name`.
    static func mentions(_ name: String, in buffer: [UInt8], count: Int) -> Bool {
        #if canImport(Glibc)
        let header = MemoryLayout<inotify_event>.size
        var offset = 0
        while offset + header <= count {
            let nameLength = buffer.withUnsafeBytes {
                Int($0.load(fromByteOffset: offset + 12, as: UInt32.self))
            }
            let nameStart = offset + header
            let nameBytes = buffer[nameStart..<min(count, nameStart + nameLength)].prefix { $0 != 0 }
            if nameBytes.elementsEqual(name.utf8) { return true }
            offset = nameStart + nameLength
        }
        #endif
        return false
    }
}

/// Touches the wake file next to a database after a committed write, for a `SQLiteChangeWatcher` in another
/// process (the daemon). Best effort: when the file cannot be written, the daemon's polling still finds the write.
struct WriteAnnouncer: Sendable {
    let path: String

    /// The wake file of the database at `databasePath`.
    static func wakePath(databasePath: String) -> String { databasePath + "-wake" }

    init(databasePath: String) {
        path = Self.wakePath(databasePath: databasePath)
    }

    /// Opens and closes the wake file (inotify reports `IN_CLOSE_WRITE`); nothing is written to it.
    func announce() {
        #if canImport(Glibc)
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o660)
        if fd >= 0 { close(fd) }
        #endif
    }
}
