import CCurl
import Foundation
import HeraldCore

/// One libcurl easy handle and the state of the transfer it is running; pooled and reused by `CurlMultiLoop`.
///
/// Not `Sendable`: a transfer belongs to the loop thread. libcurl calls the callbacks on that same thread
/// (inside `curl_multi_perform`), so the state they touch needs no lock.
final class CurlEasyTransfer {
    /// What the transfer is for, and what to call when it ends.
    enum Job {
        case http(url: String, completion: @Sendable (TransportResult) -> Void)
        case smtp(secrets: [String], completion: @Sendable (MailResult) -> Void)
    }

    /// A finished transfer's result, delivered after the handle went back to the pool.
    enum Completion {
        case http(@Sendable (TransportResult) -> Void, TransportResult)
        case smtp(@Sendable (MailResult) -> Void, MailResult)

        func resume() {
            switch self {
            case .http(let completion, let result): completion(result)
            case .smtp(let completion, let result): completion(result)
            }
        }
    }

    /// The response body is capped: enough for any vendor's error text, small enough for many transfers.
    static let maxResponseBodyBytes = 64 * 1024

    let handle: UnsafeMutableRawPointer
    /// Index in the loop's active list while the handle is in the multi, else -1.
    var activeIndex = -1
    /// The single-stream origin whose connection slot the running transfer holds (see `CurlMultiLoop`).
    var origin: String?

    private var job: Job?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The request body or message, owned here because `CURLOPT_POSTFIELDS` does not copy it.
    private var payload: UnsafeMutableRawPointer
    private var payloadCapacity: Int
    private var payloadCount = 0
    private var readOffset = 0
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var recipientList: UnsafeMutablePointer<curl_slist>?
    /// Reused to build `Name: value` lines for `curl_slist_append`, which copies them.
    private var lineBuffer: [UInt8] = []
    private var responseBody = Data()
    private var retryAfter: String?
    private var contentType: String?

    /// Returns nil when libcurl cannot create a handle (out of memory).
    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        let errorSize = Int(herald_curl_error_size())
        errorBuffer = .allocate(capacity: errorSize)
        errorBuffer.initialize(repeating: 0, count: errorSize)
        payloadCapacity = 1024
        payload = .allocate(byteCount: payloadCapacity, alignment: 16)
        lineBuffer.reserveCapacity(256)
    }

    deinit {
        freeLists()
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        payload.deallocate()
    }

    // MARK: - Preparing

    /// Sets the options for an HTTP request; returns the CURLcode of the first option libcurl refused.
    func prepare(
        _ request: HTTPRequest,
        completion: @escaping @Sendable (TransportResult) -> Void
    ) -> CURLcode {
        job = .http(url: request.url, completion: completion)
        var options = OptionSetter(handle: handle)
        setCommonOptions(&options, connectTimeout: request.connectTimeout, totalTimeout: request.totalTimeout)
        options.set(CURLOPT_URL, request.url)
        options.set(CURLOPT_PROTOCOLS_STR, "http,https")
        options.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        options.set(CURLOPT_FOLLOWLOCATION, 0)
        options.record(
            herald_easy_setopt_write_function(handle) { buffer, size, count, context in
                CurlEasyTransfer.from(context)?.receiveBody(buffer, size * count)
                return size * count
            }
        )
        options.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(self).toOpaque())
        options.record(
            herald_easy_setopt_header_function(handle) { buffer, size, count, context in
                CurlEasyTransfer.from(context)?.receiveHeader(buffer, size * count)
                return size * count
            }
        )
        options.set(CURLOPT_HEADERDATA, pointer: Unmanaged.passUnretained(self).toOpaque())

        for header in request.headers {
            appendHeader(name: header.name, value: header.value, to: &options)
        }
        // Without a body size libcurl may wait for `100 Continue`; an empty `Expect:` removes the header.
        appendLine("Expect:", to: &headerList, options: &options)
        options.set(CURLOPT_HTTPHEADER, list: headerList)

        switch request.method {
        case "GET" where request.body.isEmpty:
            options.set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            options.set(CURLOPT_NOBODY, 1)
        default:
            storePayload(request.body)
            options.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: curl_off_t(payloadCount))
            options.set(CURLOPT_POSTFIELDS, pointer: payload)
            if request.method != "POST" {
                options.set(CURLOPT_CUSTOMREQUEST, request.method)
            }
        }
        return options.result
    }

    /// Sets the options for an SMTP transaction; the envelope was validated by the caller.
    func prepare(_ message: MailMessage, completion: @escaping @Sendable (MailResult) -> Void) -> CURLcode {
        job = .smtp(
            secrets: [message.relayURL, message.password ?? ""],
            completion: completion
        )
        var options = OptionSetter(handle: handle)
        setCommonOptions(&options, connectTimeout: message.connectTimeout, totalTimeout: message.totalTimeout)
        options.set(CURLOPT_URL, message.relayURL)
        options.set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        let tls = message.allowInsecure ? CURLUSESSL_NONE : CURLUSESSL_ALL
        options.set(CURLOPT_USE_SSL, Int(tls.rawValue))
        if let username = message.username {
            options.set(CURLOPT_USERNAME, username)
        }
        if let password = message.password {
            options.set(CURLOPT_PASSWORD, password)
        }
        options.set(CURLOPT_MAIL_FROM, message.envelopeFrom)
        for recipient in message.envelopeTo {
            appendLine(recipient, to: &recipientList, options: &options)
        }
        options.set(CURLOPT_MAIL_RCPT, list: recipientList)

        storePayload(message.leadingHeaders, message.body)
        readOffset = 0
        options.set(CURLOPT_UPLOAD, 1)
        // With the size known, libcurl sends `SIZE=` so an oversized message fails at MAIL, not after DATA.
        options.set(CURLOPT_INFILESIZE_LARGE, offset: curl_off_t(payloadCount))
        options.record(
            herald_easy_setopt_read_function(handle) { buffer, size, count, context in
                CurlEasyTransfer.from(context)?.readPayload(into: buffer, size * count) ?? 0
            }
        )
        options.set(CURLOPT_READDATA, pointer: Unmanaged.passUnretained(self).toOpaque())
        return options.result
    }

    private func setCommonOptions(
        _ options: inout OptionSetter,
        connectTimeout: TimeInterval,
        totalTimeout: TimeInterval
    ) {
        errorBuffer[0] = 0
        options.set(CURLOPT_PRIVATE, pointer: Unmanaged.passUnretained(self).toOpaque())
        options.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        // Signals and threads do not mix; the threaded resolver keeps DNS timeouts working without them.
        options.set(CURLOPT_NOSIGNAL, 1)
        options.set(CURLOPT_TCP_KEEPALIVE, 1)
        options.set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout))
        options.set(CURLOPT_TIMEOUT_MS, Self.milliseconds(totalTimeout))
        // Each pooled handle keeps its receive buffer (16 KiB by default) and, once it has sent mail, its upload
        // buffer (64 KiB): with hundreds of handles that was the largest single heap consumer of the W5 benchmark
        // (heaptrack: 6 MB at peak). Vendor answers are a few hundred bytes and messages go out in a handful of
        // reads, so small buffers cost nothing measurable.
        options.set(CURLOPT_BUFFERSIZE, Self.receiveBufferBytes)
        options.set(CURLOPT_UPLOAD_BUFFERSIZE, Self.uploadBufferBytes)
    }

    /// libcurl's receive buffer per handle (its minimum is 1 KiB).
    static let receiveBufferBytes = 4096
    /// libcurl's upload buffer per handle, used for SMTP (its minimum is 16 KiB).
    static let uploadBufferBytes = 16 * 1024

    /// Whole milliseconds, at least 1 for a positive interval (0 would mean "no timeout" to libcurl).
    private static func milliseconds(_ interval: TimeInterval) -> Int {
        guard interval.isFinite, interval > 0 else { return 0 }
        return max(1, Int(min(interval, 86_400) * 1000))
    }

    private func appendHeader(name: String, value: String, to options: inout OptionSetter) {
        lineBuffer.removeAll(keepingCapacity: true)
        lineBuffer.append(contentsOf: name.utf8)
        if value.isEmpty {
            // `Name:` would remove the header; `Name;` sends it empty.
            lineBuffer.append(UInt8(ascii: ";"))
        } else {
            lineBuffer.append(UInt8(ascii: ":"))
            lineBuffer.append(UInt8(ascii: " "))
            lineBuffer.append(contentsOf: value.utf8)
        }
        lineBuffer.append(0)
        appendLineBuffer(to: &headerList, options: &options)
    }

    private func appendLine(
        _ line: String,
        to list: inout UnsafeMutablePointer<curl_slist>?,
        options: inout OptionSetter
    ) {
        lineBuffer.removeAll(keepingCapacity: true)
        lineBuffer.append(contentsOf: line.utf8)
        lineBuffer.append(0)
        appendLineBuffer(to: &list, options: &options)
    }

    private func appendLineBuffer(to list: inout UnsafeMutablePointer<curl_slist>?, options: inout OptionSetter) {
        let appended = lineBuffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { curl_slist_append(list, $0.baseAddress) }
        }
        if let appended {
            list = appended
        } else {
            options.record(CURLE_OUT_OF_MEMORY)
        }
    }

    /// Copies `data`, then `rest`, into the handle's payload buffer (libcurl reads the body from there).
    private func storePayload(_ data: Data, _ rest: Data = Data()) {
        let count = data.count + rest.count
        if count > payloadCapacity {
            payload.deallocate()
            payloadCapacity = max(count, payloadCapacity * 2)
            payload = .allocate(byteCount: payloadCapacity, alignment: 16)
        }
        payloadCount = count
        let bytes = payload.assumingMemoryBound(to: UInt8.self)
        if !data.isEmpty {
            data.copyBytes(to: bytes, count: data.count)
        }
        if !rest.isEmpty {
            rest.copyBytes(to: bytes + data.count, count: rest.count)
        }
    }

    // MARK: - Callbacks (called by libcurl on the loop thread, inside curl_multi_perform)

    private static func from(_ context: UnsafeMutableRawPointer?) -> CurlEasyTransfer? {
        guard let context else { return nil }
        return Unmanaged<CurlEasyTransfer>.fromOpaque(context).takeUnretainedValue()
    }

    private func receiveBody(_ buffer: UnsafeMutablePointer<CChar>?, _ count: Int) {
        let room = Self.maxResponseBodyBytes - responseBody.count
        guard let buffer, room > 0, count > 0 else { return }
        buffer.withMemoryRebound(to: UInt8.self, capacity: count) {
            responseBody.append($0, count: min(room, count))
        }
    }

    private func receiveHeader(_ buffer: UnsafeMutablePointer<CChar>?, _ count: Int) {
        guard let buffer, count > 0 else { return }
        let line = UnsafeRawBufferPointer(start: buffer, count: count)
        if HeaderLine.hasPrefix(line, "HTTP/", caseInsensitive: false) {
            // A new response begins (after `100 Continue`, or a redirect): forget the previous one's headers.
            retryAfter = nil
            contentType = nil
            responseBody.removeAll(keepingCapacity: true)
        } else if let value = HeaderLine.value(of: "retry-after:", in: line) {
            retryAfter = value
        } else if let value = HeaderLine.value(of: "content-type:", in: line) {
            contentType = value
        }
    }

    private func readPayload(into buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int {
        guard let buffer else { return 0 }
        let count = min(capacity, payloadCount - readOffset)
        guard count > 0 else { return 0 }
        UnsafeMutableRawPointer(buffer).copyMemory(from: payload + readOffset, byteCount: count)
        readOffset += count
        return count
    }

    // MARK: - Finishing

    /// Reads the result out of the finished handle. Call before removing the handle from the multi.
    func complete(code: CURLcode) -> Completion? {
        guard let job else { return nil }
        let status = info(CURLINFO_RESPONSE_CODE)
        switch job {
        case .http(let url, let completion):
            if code == CURLE_OK {
                let response = HTTPResponse(
                    status: status,
                    retryAfter: retryAfter,
                    contentType: contentType,
                    body: responseBody
                )
                return .http(completion, .response(response))
            }
            let failure = TransportFailure.curl(
                code: code,
                protocol: .http,
                requestSent: requestSent(),
                detail: errorText(),
                secrets: [url]
            )
            return .http(completion, .failure(failure))
        case .smtp(let secrets, let completion):
            if code == CURLE_OK {
                return .smtp(completion, .accepted(replyCode: status))
            }
            let failure = TransportFailure.curl(
                code: code,
                protocol: .smtp,
                requestSent: requestSent(),
                detail: errorText(),
                secrets: secrets,
                responseCode: status == 0 ? nil : status
            )
            return .smtp(completion, .failure(failure))
        }
    }

    /// The caller's completion with `failure`, for transfers that will never finish.
    func abandon(with failure: TransportFailure) -> Completion? {
        guard let job else { return nil }
        var failure = failure
        failure.requestSent = requestSent()
        switch job {
        case .http(_, let completion): return .http(completion, .failure(failure))
        case .smtp(_, let completion): return .smtp(completion, .failure(failure))
        }
    }

    /// Clears every option and the per-transfer state; the connection stays in the multi's cache.
    func recycle() {
        curl_easy_reset(handle)
        freeLists()
        job = nil
        responseBody = Data()
        retryAfter = nil
        contentType = nil
        payloadCount = 0
        readOffset = 0
        activeIndex = -1
        origin = nil
    }

    private func freeLists() {
        curl_slist_free_all(headerList)
        headerList = nil
        curl_slist_free_all(recipientList)
        recipientList = nil
    }

    /// Whether any of the request left this host: a retry after that may duplicate it.
    private func requestSent() -> Bool {
        var pretransfer: curl_off_t = 0
        var uploaded: curl_off_t = 0
        var requestSize = 0
        _ = herald_easy_getinfo_off_t(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
        _ = herald_easy_getinfo_off_t(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        _ = herald_easy_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &requestSize)
        return uploaded > 0 || (pretransfer > 0 && requestSize > 0)
    }

    private func info(_ info: CURLINFO) -> Int {
        var value = 0
        return herald_easy_getinfo_long(handle, info, &value) == CURLE_OK ? value : 0
    }

    private func errorText() -> String {
        String(cString: errorBuffer)
    }
}

/// Sets options on one easy handle and remembers the first refusal.
private struct OptionSetter {
    let handle: UnsafeMutableRawPointer
    private(set) var result = CURLE_OK

    init(handle: UnsafeMutableRawPointer) {
        self.handle = handle
    }

    mutating func record(_ code: CURLcode) {
        if result == CURLE_OK {
            result = code
        }
    }

    mutating func set(_ option: CURLoption, _ value: Int) {
        record(herald_easy_setopt_long(handle, option, value))
    }

    mutating func set(_ option: CURLoption, _ value: String) {
        record(herald_easy_setopt_string(handle, option, value))
    }

    mutating func set(_ option: CURLoption, offset value: curl_off_t) {
        record(herald_easy_setopt_off_t(handle, option, value))
    }

    mutating func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) {
        record(herald_easy_setopt_pointer(handle, option, value))
    }

    mutating func set(_ option: CURLoption, list value: UnsafeMutablePointer<curl_slist>?) {
        record(herald_easy_setopt_slist(handle, option, value))
    }
}
