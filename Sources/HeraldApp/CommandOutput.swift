import Foundation
import HeraldCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes command results: data to stdout, one-line reasons to stderr.
public enum CommandOutput {
    /// A line on standard output.
    public static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Many lines on standard output in as few writes as possible (`herald enqueue` of a large file answers a line
    /// per event: one write each cost a system call and a wake-up of the reader per line).
    public static func lines(_ texts: [String]) {
        var buffer = Data()
        buffer.reserveCapacity(min(texts.reduce(0) { $0 + $1.utf8.count + 1 }, chunkBytes + 256))
        for text in texts {
            buffer.append(contentsOf: text.utf8)
            buffer.append(0x0A)
            if buffer.count >= chunkBytes {
                FileHandle.standardOutput.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { FileHandle.standardOutput.write(buffer) }
    }

    /// What `lines` writes at once at most.
    static let chunkBytes = 64 * 1024

    /// A line on standard error.
    public static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// The one-line reason of a failed command, prefixed with `herald:`.
    public static func failure(_ text: String) {
        // One printable line whatever the reason echoes: control bytes from the input are escaped.
        error("herald: " + Printable.escaped(text))
    }
}
