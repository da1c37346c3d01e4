import Foundation
import HeraldTesting

#if canImport(Glibc)
import Glibc
#endif

/// A headless Chromium driven through chromedriver with the W3C WebDriver protocol (JSON over HTTP on loopback),
/// for the browser tests of Herald's pages. Debian's `chromium` and `chromium-driver` packages provide both.
final class WebDriverSession {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    /// Why the browser test cannot run here, or nil when both executables are installed.
    static var unavailableReason: String? {
        for path in [chromium, chromedriver] where !FileManager.default.isExecutableFile(atPath: path) {
            return "\(path) is not installed (Debian packages chromium and chromium-driver)"
        }
        return nil
    }

    let driver: DaemonProcess
    let port: Int
    let id: String
    /// Where screenshots go: `$HERALD_ARTEFACTS_DIR`, else `.build/test-artefacts` of the repository.
    let artefacts: URL

    private init(driver: DaemonProcess, port: Int, id: String, artefacts: URL) {
        self.driver = driver
        self.port = port
        self.id = id
        self.artefacts = artefacts
    }

    /// Starts chromedriver on a free port and opens a headless Chromium session with a window of `width`×`height`.
    static func start(in directory: URL, width: Int, height: Int) async throws -> WebDriverSession {
        let port = try UserPagesFixture.freePort()
        let driver = try DaemonProcess(
            binary: URL(fileURLWithPath: chromedriver),
            arguments: ["--port=\(port)", "--allowed-ips=127.0.0.1"],
            stdout: directory.appendingPathComponent("chromedriver.out"),
            stderr: directory.appendingPathComponent("chromedriver.err"),
            directory: directory
        )
        do {
            try await eventually("chromedriver to listen on \(port)", timeout: .seconds(20), every: .milliseconds(50)) {
                let status = try? await request(port: port, "GET", "/status")
                return (status?["value"] as? [String: Any])?["ready"] as? Bool == true
            }
            let profile = directory.appendingPathComponent("chromium-profile").path
            let capabilities: [String: Any] = [
                "capabilities": [
                    "alwaysMatch": [
                        "browserName": "chrome",
                        "goog:chromeOptions": [
                            "binary": chromium,
                            "args": [
                                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--no-first-run", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)",
                                "--hide-scrollbars",
                            ],
                        ],
                    ]
                ]
            ]
            let session = try await request(port: port, "POST", "/session", capabilities)
            guard let value = session["value"] as? [String: Any], let id = value["sessionId"] as? String else {
                throw HarnessError("chromedriver opened no session: \(session)")
            }
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let environment = ProcessInfo.processInfo.environment["HERALD_ARTEFACTS_DIR"]
            let artefacts =
                environment.map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent(".build/test-artefacts")
            try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
            return WebDriverSession(driver: driver, port: port, id: id, artefacts: artefacts)
        } catch {
            driver.kill()
            throw error
        }
    }

    /// Ends the session and stops chromedriver.
    func close() async {
        _ = try? await command("DELETE", "")
        driver.signal(SIGTERM)
        if await driver.waitForExit(timeout: .seconds(5)) == nil { driver.kill() }
    }

    // MARK: Commands

    func navigate(to url: String) async throws {
        _ = try await command("POST", "/url", ["url": url])
    }

    var currentURL: String {
        get async throws { try await command("GET", "/url") as? String ?? "" }
    }

    var pageSource: String {
        get async throws { try await command("GET", "/source") as? String ?? "" }
    }

    /// The element matching a CSS selector.
    func element(_ css: String) async throws -> String {
        let value = try await command("POST", "/element", ["using": "css selector", "value": css])
        guard let object = value as? [String: Any], let id = object.values.first as? String else {
            throw HarnessError("no element \(css): \(String(describing: value))")
        }
        return id
    }

    func click(_ element: String) async throws {
        _ = try await command("POST", "/element/\(element)/click", [String: Any]())
    }

    func isSelected(_ element: String) async throws -> Bool {
        try await command("GET", "/element/\(element)/selected") as? Bool ?? false
    }

    /// Runs `script` in the page with `arguments` (elements as their ids).
    @discardableResult
    func execute(_ script: String, elements: [String] = []) async throws -> Any? {
        let arguments = elements.map { ["element-6066-11e4-a52e-4f735466cecf": $0] }
        return try await command("POST", "/execute/sync", ["script": script, "args": arguments])
    }

    /// Emulates a phone's screen (`width`×`height` CSS pixels at `scale`, mobile viewport rules) through the
    /// DevTools protocol, which chromedriver relays; nil width goes back to the desktop window.
    func emulatePhone(width: Int?, height: Int = 844, scale: Double = 2) async throws {
        if let width {
            let metrics: [String: Any] = ["width": width, "height": height, "deviceScaleFactor": scale, "mobile": true]
            _ = try await command(
                "POST",
                "/goog/cdp/execute",
                ["cmd": "Emulation.setDeviceMetricsOverride", "params": metrics]
            )
        } else {
            _ = try await command(
                "POST",
                "/goog/cdp/execute",
                ["cmd": "Emulation.clearDeviceMetricsOverride", "params": [String: Any]()]
            )
        }
    }

    /// Sends keystrokes to an element (WebDriver key codes: `\u{E007}` Enter, `\u{E004}` Tab).
    func type(_ text: String, into element: String) async throws {
        _ = try await command("POST", "/element/\(element)/value", ["text": text])
    }

    /// Saves a PNG screenshot of the viewport as `name` under the artefacts directory and returns its URL.
    @discardableResult
    func screenshot(_ name: String) async throws -> URL {
        guard let base64 = try await command("GET", "/screenshot") as? String, let png = Data(base64Encoded: base64)
        else { throw HarnessError("chromedriver returned no screenshot") }
        let url = artefacts.appendingPathComponent(name)
        try png.write(to: url)
        return url
    }

    /// One session command; answers `value`, throws the WebDriver error.
    func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        let answer = try await Self.request(port: port, method, "/session/\(id)\(path)", body)
        let value = answer["value"]
        if let error = value as? [String: Any], let code = error["error"] as? String {
            throw HarnessError("WebDriver \(method) \(path): \(code): \(error["message"] ?? "")")
        }
        return value
    }

    /// One HTTP request to chromedriver (a fresh loopback connection each: chromedriver may close it).
    static func request(
        port: Int,
        _ method: String,
        _ path: String,
        _ body: [String: Any]? = nil
    ) async throws
        -> [String: Any]
    {
        let client = try await KeepAliveHTTPClient.connect(host: "127.0.0.1", port: port)
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let response = try await client.send(
            method,
            path,
            headers: data == nil ? [] : [("Content-Type", "application/json; charset=utf-8")],
            body: data
        )
        await client.close()
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw HarnessError(
                "chromedriver answered \(response.status): \(String(decoding: response.body, as: UTF8.self))"
            )
        }
        return object
    }
}
