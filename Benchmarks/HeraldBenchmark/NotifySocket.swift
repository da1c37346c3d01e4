import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The receiving end of the sd_notify protocol: a Unix datagram socket whose path goes in `$NOTIFY_SOCKET`.
final class NotifySocket {
    /// The value for `NOTIFY_SOCKET` (a path, or `@name` for an abstract socket).
    let address: String
    private let fd: Int32
    private let path: String?

    /// Binds `directory/notify.sock`, or an abstract socket when that path is too long for `sun_path`.
    init(directory: String) throws(BenchmarkError) {
        let candidate = directory + "/notify.sock"
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        let abstract = candidate.utf8.count >= capacity
        address = abstract ? "@herald-benchmark-\(getpid())" : candidate
        path = abstract ? nil : candidate
        if let path { unlink(path) }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchmarkError("socket(AF_UNIX): \(String(cString: strerror(errno)))") }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            throw BenchmarkError("bind(\(address)): \(reason)")
        }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// Waits until a datagram carries the line `state` (e.g. `READY=1`); returns the monotonic receive time, or
    /// nil when `deadline` passes or `abandon` says the sender is gone.
    func wait(for state: String, deadline: UInt64, abandon: () -> Bool) -> UInt64? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while monotonicNanos() < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 10)
            if ready > 0 {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                let received = monotonicNanos()
                if count > 0 {
                    let text = String(decoding: buffer[0..<count], as: UTF8.self)
                    if text.split(separator: "\n").contains(where: { $0 == state }) { return received }
                }
            } else if abandon() {
                return nil
            }
        }
        return nil
    }

    /// Discards every datagram waiting in the socket.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
    }
}
