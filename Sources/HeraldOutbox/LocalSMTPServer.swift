import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A message as the local SMTP server accepted it.
public struct ReceivedMail: Sendable {
    /// The `MAIL FROM` address, without angle brackets.
    public var envelopeFrom: String
    /// The `RCPT TO` addresses, without angle brackets.
    public var envelopeTo: [String]
    /// The message after dot-unstuffing, every line ending in CRLF, without the final `.` line.
    public var data: Data
    /// When the final `.` arrived.
    public var receivedAt: Date

    /// Creates a received message.
    public init(envelopeFrom: String, envelopeTo: [String], data: Data, receivedAt: Date) {
        self.envelopeFrom = envelopeFrom
        self.envelopeTo = envelopeTo
        self.data = data
        self.receivedAt = receivedAt
    }

    /// The message as UTF-8 text (lossy).
    public var text: String { String(decoding: data, as: UTF8.self) }
}

/// A reply the local SMTP server sends instead of its normal one.
public struct SMTPReply: Sendable, Hashable {
    /// The three-digit reply code.
    public var code: Int
    /// The text after the code.
    public var text: String

    /// Creates a reply; without text, a usual text for the code is used.
    public init(_ code: Int, _ text: String? = nil) {
        self.code = code
        self.text = text ?? SMTPReply.defaultText(for: code)
    }

    static func defaultText(for code: Int) -> String {
        switch code {
        case 221: return "2.0.0 Bye"
        case 235: return "2.7.0 Authentication successful"
        case 250: return "2.0.0 OK"
        case 354: return "End data with <CR><LF>.<CR><LF>"
        case 421: return "4.3.2 Service not available, closing transmission channel"
        case 450: return "4.2.1 Mailbox busy, try again later"
        case 451: return "4.3.0 Local error in processing"
        case 452: return "4.5.3 Insufficient system storage"
        case 454: return "4.7.0 Temporary authentication failure"
        case 500: return "5.5.2 Syntax error, command unrecognised"
        case 501: return "5.5.4 Syntax error in parameters"
        case 502: return "5.5.1 Command not implemented"
        case 503: return "5.5.1 Bad sequence of commands"
        case 530: return "5.7.0 Authentication required"
        case 535: return "5.7.8 Authentication credentials invalid"
        case 550: return "5.1.1 Mailbox unavailable"
        case 552: return "5.3.4 Message size exceeds fixed limit"
        case 553: return "5.1.3 Mailbox name not allowed"
        case 554: return "5.3.0 Transaction failed"
        default: return "Reply \(code)"
        }
    }
}

/// A local plain-text SMTP server (RFC 5321, no TLS), enough for libcurl's SMTP client: `herald outbox` and tests.
///
/// Speaks EHLO/HELO, AUTH PLAIN and LOGIN (when credentials are configured), MAIL, RCPT, DATA with
/// dot-unstuffing, RSET, NOOP and QUIT. Replies can be scripted per command to inject failures.
public final class LocalSMTPServer: Sendable {
    /// A hook that can replace the reply to a command: it receives the verb (`EHLO`, `AUTH`, `MAIL`,
    /// `RCPT`, `DATA`, `EOM` for the final `.`, `RSET`, `NOOP`, `QUIT`) and the argument; nil keeps the
    /// normal reply.
    public typealias ReplyHook = @Sendable (_ verb: String, _ argument: String) -> SMTPReply?
    /// A hook that sees each complete message before it is accepted: a reply other than 2yz refuses it; nil
    /// accepts it.
    public typealias MessageHook = @Sendable (ReceivedMail) -> SMTPReply?

    /// The bound port.
    public let port: Int
    private let host: String
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let core: LocalSMTPCore

    private init(host: String, port: Int, channel: any Channel, group: MultiThreadedEventLoopGroup, core: LocalSMTPCore)
    {
        self.host = host
        self.port = port
        self.channel = channel
        self.group = group
        self.core = core
    }

    deinit {
        if core.markShutDown() {
            group.shutdownGracefully { _ in }
        }
    }

    /// `smtp://host:port`.
    public var url: String { "smtp://\(host):\(port)" }

    /// Starts a server.
    ///
    /// - Parameters:
    ///   - username: when set (with `password`), EHLO advertises `AUTH PLAIN LOGIN`, the credentials are
    ///     checked (535 on mismatch) and MAIL needs a successful AUTH (530).
    ///   - replies: scripted reply codes per verb, used in order, one per command (`["RCPT": [451]]` makes
    ///     the first RCPT fail). A 421 also closes the connection.
    ///   - hook: consulted after `replies`; see `ReplyHook`.
    ///   - recordMessages: keep accepted messages for `messages()` (a long-running outbox turns this off).
    ///   - messageHook: sees each complete message before it is accepted; see `MessageHook`.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        username: String? = nil,
        password: String? = nil,
        replies: [String: [Int]] = [:],
        hook: ReplyHook? = nil,
        recordMessages: Bool = true,
        messageHook: MessageHook? = nil
    ) async throws -> LocalSMTPServer {
        let credentials = username.map { (username: $0, password: password ?? "") }
        let core = LocalSMTPCore(
            credentials: credentials,
            replies: replies,
            hook: hook,
            recordMessages: recordMessages,
            messageHook: messageHook
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                core.connectionOpened()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPLineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(LocalSMTPHandler(core: core))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            let boundPort = channel.localAddress?.port ?? port
            return LocalSMTPServer(host: host, port: boundPort, channel: channel, group: group, core: core)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Every message accepted so far, in order.
    public func messages() -> [ReceivedMail] {
        core.messages()
    }

    /// Every command line received so far (AUTH arguments and credentials replaced by `***`).
    public func commands() -> [String] {
        core.commands()
    }

    /// How many TCP connections were accepted.
    public var connectionCount: Int { core.connectionCount }

    /// Stops listening, closes every connection and ends the server's thread.
    public func shutdown() async throws {
        guard core.markShutDown() else { return }
        try? await channel.close()
        try await group.shutdownGracefully()
    }
}

/// State shared by the server and its connections.
private final class LocalSMTPCore: Sendable {
    private struct State {
        var messages: [ReceivedMail] = []
        var commands: [String] = []
        var replies: [String: [Int]]
        var connections = 0
        var queueNumber = 0
        var shutDown = false
    }

    let credentials: (username: String, password: String)?
    private let hook: LocalSMTPServer.ReplyHook?
    private let recordMessages: Bool
    let messageHook: LocalSMTPServer.MessageHook?
    private let state: Mutex<State>

    init(
        credentials: (username: String, password: String)?,
        replies: [String: [Int]],
        hook: LocalSMTPServer.ReplyHook?,
        recordMessages: Bool,
        messageHook: LocalSMTPServer.MessageHook?
    ) {
        self.credentials = credentials
        self.hook = hook
        self.recordMessages = recordMessages
        self.messageHook = messageHook
        state = Mutex(State(replies: replies))
    }

    var connectionCount: Int { state.withLock { $0.connections } }

    func connectionOpened() {
        state.withLock { $0.connections += 1 }
    }

    func markShutDown() -> Bool {
        state.withLock { state in
            defer { state.shutDown = true }
            return !state.shutDown
        }
    }

    func messages() -> [ReceivedMail] {
        state.withLock { $0.messages }
    }

    func commands() -> [String] {
        state.withLock { $0.commands }
    }

    func record(command: String) {
        state.withLock { $0.commands.append(command) }
    }

    /// Stores a message and returns its queue id.
    func accept(_ mail: ReceivedMail) -> String {
        state.withLock { state in
            if recordMessages { state.messages.append(mail) }
            state.queueNumber += 1
            return String(format: "OUTBOX%06d", state.queueNumber)
        }
    }

    /// A scripted reply for `verb`, if any is left, else the hook's.
    func override(_ verb: String, _ argument: String) -> SMTPReply? {
        let scripted = state.withLock { state -> Int? in
            guard var codes = state.replies[verb], !codes.isEmpty else { return nil }
            let code = codes.removeFirst()
            state.replies[verb] = codes
            return code
        }
        if let scripted {
            return SMTPReply(scripted)
        }
        return hook?(verb, argument)
    }
}

/// Splits the byte stream into lines, without their CRLF (a bare LF is accepted too).
private struct SMTPLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        guard var line = buffer.readSlice(length: length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytesView.last == UInt8(ascii: "\r") {
            line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1) ?? line
        }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        .needMoreData
    }
}

/// One SMTP session.
private final class LocalSMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        case command
        case authPlain
        case authLoginUsername
        case authLoginPassword(username: String)
        case data
    }

    private let core: LocalSMTPCore
    private var phase = Phase.command
    private var authenticated = false
    private var greeted = false
    private var envelopeFrom: String?
    private var envelopeTo: [String] = []
    private var data = Data()

    init(core: LocalSMTPCore) {
        self.core = core
    }

    func channelActive(context: ChannelHandlerContext) {
        if let reply = core.override("GREETING", "") {
            send(reply, context: context)
        } else {
            send(SMTPReply(220, "herald-outbox ESMTP ready"), context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let line = buffer.readString(length: buffer.readableBytes) ?? ""
        switch phase {
        case .data:
            receiveData(line, context: context)
        case .authPlain:
            phase = .command
            core.record(command: "***")
            finishAuth(checkPlain(line), context: context)
        case .authLoginUsername:
            core.record(command: "***")
            phase = .authLoginPassword(username: Self.decodeBase64(line) ?? "")
            send(SMTPReply(334, "UGFzc3dvcmQ6"), context: context)
        case .authLoginPassword(let username):
            phase = .command
            core.record(command: "***")
            let password = Self.decodeBase64(line) ?? ""
            finishAuth(credentialsMatch(username: username, password: password), context: context)
        case .command:
            handleCommand(line, context: context)
        }
    }

    private func handleCommand(_ line: String, context: ChannelHandlerContext) {
        let verbEnd = line.firstIndex(of: " ") ?? line.endIndex
        let verb = line[..<verbEnd].uppercased()
        let argument = String(line[verbEnd...].drop(while: { $0 == " " }))
        core.record(command: verb == "AUTH" ? "AUTH " + (argument.split(separator: " ").first ?? "") : line)

        if let reply = core.override(verb, argument) {
            if verb == "DATA", reply.code == 354 {
                phase = .data
                data = Data()
            }
            if verb == "EHLO" || verb == "HELO", reply.code / 100 == 2 {
                greeted = true
            }
            send(reply, context: context)
            return
        }

        switch verb {
        case "EHLO":
            greeted = true
            resetTransaction()
            var lines = ["herald-outbox greets \(argument)", "SIZE 10485760", "8BITMIME"]
            if core.credentials != nil {
                lines.append("AUTH PLAIN LOGIN")
            }
            sendMultiline(250, lines, context: context)
        case "HELO":
            greeted = true
            resetTransaction()
            send(SMTPReply(250, "herald-outbox"), context: context)
        case "AUTH":
            startAuth(argument, context: context)
        case "MAIL":
            guard greeted, envelopeFrom == nil else { return send(SMTPReply(503), context: context) }
            if core.credentials != nil, !authenticated {
                return send(SMTPReply(530), context: context)
            }
            guard let address = Self.address(in: argument, after: "FROM:") else {
                return send(SMTPReply(501), context: context)
            }
            envelopeFrom = address
            send(SMTPReply(250, "2.1.0 Ok"), context: context)
        case "RCPT":
            guard envelopeFrom != nil else { return send(SMTPReply(503), context: context) }
            guard let address = Self.address(in: argument, after: "TO:") else {
                return send(SMTPReply(501), context: context)
            }
            envelopeTo.append(address)
            send(SMTPReply(250, "2.1.5 Ok"), context: context)
        case "DATA":
            guard envelopeFrom != nil, !envelopeTo.isEmpty else { return send(SMTPReply(503), context: context) }
            phase = .data
            data = Data()
            send(SMTPReply(354), context: context)
        case "RSET":
            resetTransaction()
            send(SMTPReply(250), context: context)
        case "NOOP":
            send(SMTPReply(250), context: context)
        case "VRFY":
            send(SMTPReply(252, "2.0.0 Cannot VRFY user"), context: context)
        case "QUIT":
            send(SMTPReply(221), context: context, thenClose: true)
        default:
            send(SMTPReply(502), context: context)
        }
    }

    private func receiveData(_ line: String, context: ChannelHandlerContext) {
        if line == "." {
            phase = .command
            if let reply = core.override("EOM", "") {
                resetTransaction()
                return send(reply, context: context)
            }
            let mail = ReceivedMail(
                envelopeFrom: envelopeFrom ?? "",
                envelopeTo: envelopeTo,
                data: data,
                receivedAt: Date()
            )
            resetTransaction()
            if let reply = core.messageHook?(mail), reply.code / 100 != 2 {
                return send(reply, context: context)
            }
            let queueID = core.accept(mail)
            send(SMTPReply(250, "2.0.0 Ok: queued as \(queueID)"), context: context)
            return
        }
        // RFC 5321 §4.5.2: a leading dot was doubled by the client.
        let unstuffed = line.hasPrefix(".") ? String(line.dropFirst()) : line
        data.append(contentsOf: unstuffed.utf8)
        data.append(contentsOf: [0x0D, 0x0A])
    }

    private func startAuth(_ argument: String, context: ChannelHandlerContext) {
        guard core.credentials != nil else { return send(SMTPReply(502), context: context) }
        let parts = argument.split(separator: " ", maxSplits: 1).map(String.init)
        let mechanism = parts.first?.uppercased() ?? ""
        let initial = parts.count > 1 ? parts[1] : nil
        switch mechanism {
        case "PLAIN":
            if let initial {
                finishAuth(checkPlain(initial), context: context)
            } else {
                phase = .authPlain
                send(SMTPReply(334, ""), context: context)
            }
        case "LOGIN":
            if let initial {
                phase = .authLoginPassword(username: Self.decodeBase64(initial) ?? "")
                send(SMTPReply(334, "UGFzc3dvcmQ6"), context: context)
            } else {
                phase = .authLoginUsername
                send(SMTPReply(334, "VXNlcm5hbWU6"), context: context)
            }
        default:
            send(SMTPReply(504, "5.5.4 Unrecognized authentication type"), context: context)
        }
    }

    private func checkPlain(_ encoded: String) -> Bool {
        guard let decoded = Data(base64Encoded: encoded) else { return false }
        // authzid NUL authcid NUL password
        let fields = decoded.split(separator: 0, omittingEmptySubsequences: false)
        guard fields.count == 3 else { return false }
        return credentialsMatch(
            username: String(decoding: fields[1], as: UTF8.self),
            password: String(decoding: fields[2], as: UTF8.self)
        )
    }

    private func credentialsMatch(username: String, password: String) -> Bool {
        guard let credentials = core.credentials else { return false }
        return credentials.username == username && credentials.password == password
    }

    private func finishAuth(_ success: Bool, context: ChannelHandlerContext) {
        if let reply = core.override("AUTHRESULT", "") {
            authenticated = reply.code == 235
            return send(reply, context: context)
        }
        authenticated = success
        send(SMTPReply(success ? 235 : 535), context: context)
    }

    private func resetTransaction() {
        envelopeFrom = nil
        envelopeTo = []
        data = Data()
    }

    private static func decodeBase64(_ text: String) -> String? {
        Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The address in `FROM:<a@b> SIZE=10` or `TO:<a@b>`, without brackets.
    private static func address(in argument: String, after keyword: String) -> String? {
        guard argument.uppercased().hasPrefix(keyword) else { return nil }
        let rest = argument.dropFirst(keyword.count).drop(while: { $0 == " " })
        if rest.hasPrefix("<") {
            guard let close = rest.firstIndex(of: ">") else { return nil }
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        return String(rest.prefix(while: { $0 != " " }))
    }

    private func send(_ reply: SMTPReply, context: ChannelHandlerContext, thenClose: Bool = false) {
        let line = reply.text.isEmpty ? "\(reply.code) \r\n" : "\(reply.code) \(reply.text)\r\n"
        write(line, context: context, thenClose: thenClose || reply.code == 421)
    }

    private func sendMultiline(_ code: Int, _ lines: [String], context: ChannelHandlerContext) {
        var text = ""
        for (index, line) in lines.enumerated() {
            text += "\(code)\(index == lines.count - 1 ? " " : "-")\(line)\r\n"
        }
        write(text, context: context, thenClose: false)
    }

    private func write(_ text: String, context: ChannelHandlerContext, thenClose: Bool) {
        let buffer = context.channel.allocator.buffer(string: text)
        if thenClose {
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}
