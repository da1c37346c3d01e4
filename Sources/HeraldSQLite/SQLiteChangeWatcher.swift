import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Calls back when another process may have written the database: inotify on the database's directory
/// reports every write to the database and its write-ahead log, so `herald enqueue` wakes the daemon at once
/// and the daemon does not have to poll while idle.
///
/// The callback may fire for the daemon's own writes too; it only rings doorbells, so extra calls are cheap.
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
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
        guard inotify_add_watch(fd, directory, mask) >= 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
        let name = URL(fileURLWithPath: databasePath).lastPathComponent
        let thread = Thread { [self] in self.loop(databaseName: name, onChange: onChange) }
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

    private func loop(databaseName: String, onChange: @Sendable () -> Void) {
        #if canImport(Glibc)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopped.load(ordering: .relaxed) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            // Wake at least every 100 ms to notice stop().
            let ready = poll(&poller, 1, 100)
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { continue }
            if Self.mentions(databaseName, in: buffer, count: count) { onChange() }
        }
        finished.withLock { $0 = true }
        #endif
    }

    /// Whether any event in the buffer concerns the database or its `-wal` / `-shm` files.
    static func mentions(_ databaseName: String, in buffer: [UInt8], count: Int) -> Bool {
        #if canImport(Glibc)
        let header = MemoryLayout<inotify_event>.size
        var offset = 0
        while offset + header <= count {
            let nameLength = buffer.withUnsafeBytes {
                Int($0.load(fromByteOffset: offset + 12, as: UInt32.self))
            }
            let nameStart = offset + header
            let nameBytes = buffer[nameStart..<min(count, nameStart + nameLength)].prefix { $0 != 0 }
            if String(decoding: nameBytes, as: UTF8.self).hasPrefix(databaseName) { return true }
            offset = nameStart + nameLength
        }
        #endif
        return false
    }
}
