import Foundation
import HeraldCore
import Logging
import Testing

@testable import HeraldApp

@Suite("Log lines")
struct LoggingTests {
    @Test func logfmtQuotesAndEscapesValues() {
        let line = HeraldLogHandler.logfmt([("msg", "event fanned out"), ("key", "assigned"), ("text", "a \"b\"\nc")])
        #expect(line == #"msg="event fanned out" key=assigned text="a \"b\"\nc""#)
    }

    @Test func everyLineIsScrubbedOfSecrets() throws {
        let output = LogOutput.capture(secrets: ["xoxb-SECRET-token"])
        let logger = Logger(label: "test") { label in
            HeraldLogHandler(
                label: label,
                level: LogLevelBox(.info),
                format: .logfmt,
                output: output,
                includeTimestamp: false
            )
        }
        logger.info("sending", metadata: ["detail": "Authorization: Bearer xoxb-SECRET-token"])
        logger.debug("hidden at info")
        #expect(output.lines == [#"level=info msg=sending detail="Authorization: Bearer [REDACTED]""#])
    }

    @Test func jsonLinesDecode() throws {
        let output = LogOutput.capture()
        let level = LogLevelBox(.warning)
        let logger = Logger(label: "test") { label in
            HeraldLogHandler(label: label, level: level, format: .json, output: output, includeTimestamp: true)
        }
        logger.info("dropped")
        level.value = .info
        logger.info("kept", metadata: ["event.id": "evt_1"])
        let line = try #require(output.lines.first)
        let object = try JSONValue.parse(Data(line.utf8))
        #expect(object["msg"] == .string("kept"))
        #expect(object["event.id"] == .string("evt_1"))
        #expect(object["ts"]?.stringValue.flatMap(Timestamp.parse) != nil)
        #expect(output.lines.count == 1)
    }

    @Test func sdNotifyReachesTheSocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "notify-\(UUID().uuidString.prefix(8))"
        ).path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        defer { unlink(path) }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"])
        #expect(notifier.watchdogInterval == .seconds(1))
        #expect(notifier.notify("READY=1"))
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(received == 7)
        #expect(String(decoding: buffer.prefix(max(0, received)), as: UTF8.self) == "READY=1")
        #expect(!SystemdNotifier(environment: [:]).notify("READY=1"))
    }
}
