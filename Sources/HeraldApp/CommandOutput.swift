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
