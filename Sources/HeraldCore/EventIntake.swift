import Foundation

/// Validates upstream input into events ready to store: field by field, naming each problem.
public struct EventIntake: Sendable {
    /// The largest accepted event, in bytes of JSON (SPEC §3.1: 256 KiB).
    public static let defaultMaxEventBytes = 256 * 1024
    /// The most events accepted in one batch.
    public static let defaultMaxBatch = 10_000

    public var catalog: Catalog
    public var maxEventBytes: Int
    public var maxBatch: Int
    /// The configured notifiers by id with their channel; a recipient's `notifier` must be one of them and of
    /// the recipient's channel. Nil only where no configuration exists (then any positive id passes).
    public var notifiers: [Int: Channel]?

    public init(
        catalog: Catalog,
        maxEventBytes: Int = EventIntake.defaultMaxEventBytes,
        maxBatch: Int = EventIntake.defaultMaxBatch,
        notifiers: [Int: Channel]? = nil
    ) {
        self.catalog = catalog
        self.maxEventBytes = maxEventBytes
        self.maxBatch = maxBatch
        self.notifiers = notifiers
    }

    /// Parses a document holding one event, a JSON array of events, `{"events": [...]}`, or JSON lines.
    /// All or nothing: any problem in any event fails the whole document, listing every problem found.
    public func parseDocument(_ data: Data, now: Date) throws(ValidationFailure) -> [NewEvent] {
        let trimmed = data.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        guard !trimmed.isEmpty else {
            throw ValidationFailure(
                code: "VALIDATION_FAILED",
                details: [FieldError(field: "body", message: "is empty")]
            )
        }
        let whole: JSONValue
        do {
            whole = try JSONParser.parse(data)
        } catch {
            return try parseLines(data, wholeFailure: error, now: now)
        }
        switch whole {
        case .array(let elements):
            return try parseBatch(elements.map { ($0, nil) }, prefix: "events", now: now)
        case .object(let members) where members["events"] != nil && members["key"] == nil:
            var problems: [FieldError] = []
            for name in members.keys.sorted() where name != "events" {
                problems.append(
                    FieldError(field: Printable.escaped(name.string), message: "is not a field of {\"events\": [...]}")
                )
            }
            guard case .array(let elements) = members["events"]! else {
                problems.append(FieldError(field: "events", message: "must be an array"))
                throw ValidationFailure(code: "VALIDATION_FAILED", details: problems)
            }
            if !problems.isEmpty { throw ValidationFailure(code: "VALIDATION_FAILED", details: problems) }
            return try parseBatch(elements.map { ($0, nil) }, prefix: "events", now: now)
        default:
            return try parseBatch([(whole, data.count)], prefix: nil, now: now)
        }
    }

    /// Reads a document that is not one JSON value as JSON lines, one event per non-blank line. A document of
    /// a single line is reported as `body` with the parser's own reason (a duplicate key, invalid UTF-8…).
    private func parseLines(
        _ data: Data,
        wholeFailure: JSONParser.Failure,
        now: Date
    ) throws(ValidationFailure)
        -> [NewEvent]
    {
        let lines = Self.lines(of: data)
        var numbered: [(number: Int, line: Data)] = []
        numbered.reserveCapacity(lines.count)
        for (lineNumber, line) in lines.enumerated() {
            if let line { numbered.append((lineNumber + 1, line)) }
        }
        if numbered.count <= 1 {
            throw ValidationFailure(
                code: wholeFailure.code,
                details: [FieldError(field: wholeFailure.fieldPath(under: "body"), message: wholeFailure.reason)]
            )
        }
        // Every line is parsed, and validated when the batch is not too large, on all cores: lines do not depend
        // on each other. The outcomes are merged in line order, so the result and the problems listed are the
        // same as one line after the other.
        let validating = numbered.count <= maxBatch
        let outcomes = Self.concurrentMap(numbered) { index, entry -> LineOutcome in
            do throws(JSONParser.Failure) {
                let value = try JSONParser.parse(entry.line)
                guard validating else { return .parsed(value, entry.line.count) }
                return .validated(validate(value, rawSize: entry.line.count, path: "events[\(index)]", now: now))
            } catch {
                let problem = FieldError(field: error.fieldPath(under: "line \(entry.number)"), message: error.reason)
                return .invalid(problem, code: error.code)
            }
        }
        var problems: [FieldError] = []
        var codes = Set<String>()
        for case .invalid(let problem, let code) in outcomes {
            codes.insert(code)
            problems.append(problem)
        }
        if !problems.isEmpty {
            throw ValidationFailure(code: codes.count == 1 ? codes.first! : "INVALID_JSON", details: problems)
        }
        guard validating else {
            var items: [(JSONValue, Int?)] = []
            for case .parsed(let value, let size) in outcomes { items.append((value, size)) }
            return try parseBatch(items, prefix: "events", now: now)
        }
        var results: [Result<NewEvent, ValidationFailure>] = []
        results.reserveCapacity(outcomes.count)
        for case .validated(let result) in outcomes { results.append(result) }
        return try Self.gather(results)
    }

    /// What became of one line of a JSON-lines document.
    private enum LineOutcome: Sendable {
        case invalid(FieldError, code: String)
        case parsed(JSONValue, Int)
        case validated(Result<NewEvent, ValidationFailure>)
    }

    /// `transform` applied to every element, on all cores for a large input (in contiguous runs, one per core),
    /// results in the elements' order.
    package static func concurrentMap<Element: Sendable, Mapped: Sendable>(
        _ elements: [Element],
        _ transform: @Sendable (Int, Element) -> Mapped
    ) -> [Mapped] {
        let lanes = min(ProcessInfo.processInfo.activeProcessorCount, elements.count / minimumRun)
        guard lanes > 1 else { return elements.enumerated().map { transform($0.offset, $0.element) } }
        var results = [Mapped?](repeating: nil, count: elements.count)
        results.withUnsafeMutableBufferPointer { buffer in
            // Each lane writes only its own run of slots.
            nonisolated(unsafe) let slots = buffer
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                let start = elements.count * lane / lanes
                let end = elements.count * (lane + 1) / lanes
                for index in start..<end { slots[index] = transform(index, elements[index]) }
            }
        }
        return results.map { $0! }
    }

    /// Below this many elements per core a run is not worth a thread.
    static let minimumRun = 256

    /// Validates already-parsed events; `prefix` names the array in field paths (`events[3].key`).
    public func parseBatch(
        _ items: [(JSONValue, Int?)],
        prefix: String?,
        now: Date
    ) throws(ValidationFailure)
        -> [NewEvent]
    {
        guard !items.isEmpty else {
            throw ValidationFailure(
                code: "VALIDATION_FAILED",
                details: [FieldError(field: prefix ?? "body", message: "holds no event")]
            )
        }
        guard items.count <= maxBatch else {
            throw ValidationFailure(
                code: "VALIDATION_FAILED",
                details: [FieldError(field: prefix ?? "events", message: "holds more than \(maxBatch) events")]
            )
        }
        return try Self.gather(
            items.enumerated().map { index, item in
                validate(item.0, rawSize: item.1, path: prefix.map { "\($0)[\(index)]" }, now: now)
            }
        )
    }

    /// The events of a batch in order, or every problem of every invalid one: one kind of problem keeps its own
    /// code (UNKNOWN_EVENT_KEY, PAYLOAD_TOO_LARGE), a mix is a validation failure.
    private static func gather(_ results: [Result<NewEvent, ValidationFailure>]) throws(ValidationFailure) -> [NewEvent]
    {
        var events: [NewEvent] = []
        events.reserveCapacity(results.count)
        var problems: [FieldError] = []
        var codes = Set<String>()
        for result in results {
            switch result {
            case .success(let event): events.append(event)
            case .failure(let failure):
                codes.insert(failure.code)
                problems.append(contentsOf: failure.details)
            }
        }
        if !problems.isEmpty {
            throw ValidationFailure(code: codes.count == 1 ? codes.first! : "VALIDATION_FAILED", details: problems)
        }
        return events
    }

    /// Validates one event object.
    public func validate(
        _ value: JSONValue,
        rawSize: Int?,
        path: String?,
        now: Date
    ) -> Result<
        NewEvent, ValidationFailure
    > {
        var reader = FieldReader(path: path)
        guard case .object(let members) = value else {
            return .failure(
                ValidationFailure(
                    code: "VALIDATION_FAILED",
                    details: [FieldError(field: path ?? "body", message: "must be a JSON object")]
                )
            )
        }
        let canonical: Data
        do {
            canonical = try value.canonicalData()
        } catch {
            return .failure(
                ValidationFailure(
                    code: "VALIDATION_FAILED",
                    details: [FieldError(field: path ?? "body", message: "cannot be encoded")]
                )
            )
        }
        if max(rawSize ?? 0, canonical.count) > maxEventBytes {
            return .failure(
                ValidationFailure(
                    code: "PAYLOAD_TOO_LARGE",
                    details: [
                        FieldError(field: path ?? "body", message: "is larger than \(maxEventBytes) bytes")
                    ]
                )
            )
        }
        if !members.keys.allSatisfy({ FieldReader.isKnown($0, in: FieldReader.eventFields) }) {
            for name in members.keys.sorted() where !FieldReader.isKnown(name, in: FieldReader.eventFields) {
                reader.fail(Printable.escaped(name.string), "is not a field of an event")
            }
        }

        let id = reader.optionalIdentifier(members, "id")
        let key = reader.requiredString(members, "key")
        var entry: CatalogEntry?
        var unknownKey = false
        if let key {
            entry = catalog.entry(for: key)
            if entry == nil {
                unknownKey = true
                reader.fail("key", "\(Printable.quoted(key)) is not in the catalog")
            } else if key == Catalog.otpKey {
                // The code must never be stored in an event: only the OTP endpoint renders this key.
                reader.fail("key", "\"otp_code\" is issued by POST /api/v1/projects/{id}/otp, not sent as an event")
            }
        }
        let organization = reader.requiredIdentifier(members, "organization")
        let project = reader.optionalIdentifier(members, "project")
        let actor = reader.actor(members["actor"])
        let issueScoped = entry.map { $0.builtIn && BuiltInKeyData.isIssueScoped($0.key) } ?? false
        let issue = reader.issue(members["issue"], required: issueScoped)
        var data: [JSONKey: JSONValue] = [:]
        switch members["data"] {
        case nil, .null?: break
        case .object(let object)?: data = object
        case let other?: reader.fail("data", "must be an object, not \(other.typeName)")
        }
        if let entry, entry.builtIn, !reader.hasProblem(at: "data") {
            reader.append(BuiltInKeyData.problems(key: entry.key, data: .object(data), path: reader.field("data")))
        }
        let recipients = reader.recipients(members["recipients"], notifiers: notifiers)
        var occurredAt = now
        if let text = reader.optionalString(members, "occurredAt") {
            if let date = Timestamp.parse(text) {
                occurredAt = date
            } else {
                reader.fail(
                    "occurredAt",
                    "must be an RFC 3339 date-time such as 2026-11-23T10:00:00Z, not \(Printable.quoted(text))"
                )
            }
        }
        if let entry, entry.audience == .explicit, recipients.isEmpty, !reader.hasProblem(at: "recipients") {
            reader.fail("recipients", "must name at least one recipient for the custom key \"\(entry.key)\"")
        }

        if !reader.problems.isEmpty {
            let onlyKey = unknownKey && reader.problems.count == 1
            return .failure(
                ValidationFailure(code: onlyKey ? "UNKNOWN_EVENT_KEY" : "VALIDATION_FAILED", details: reader.problems)
            )
        }
        let event = Event(
            id: id ?? EventID.generate(at: now),
            key: key!,
            organization: organization!,
            project: project,
            actor: actor,
            issue: issue,
            data: data,
            recipients: recipients,
            occurredAt: occurredAt
        )
        return .success(NewEvent(event: event, idempotencyKey: id, canonicalBody: canonical))
    }

    /// The lines of `data` (LF or CRLF), nil for blank ones, scanned once over the raw bytes.
    static func lines(of data: Data) -> [Data?] {
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> [Data?] in
            var lines: [Data?] = []
            var start = 0
            func take(_ end: Int) {
                var stop = end
                if stop > start, buffer[stop - 1] == 0x0D { stop -= 1 }
                var blank = true
                for index in start..<stop where buffer[index] != 0x20 && buffer[index] != 0x09 {
                    blank = false
                    break
                }
                lines.append(blank ? nil : Data(buffer[start..<stop]))
            }
            for index in 0..<buffer.count where buffer[index] == 0x0A {
                take(index)
                start = index + 1
            }
            if start < buffer.count { take(buffer.count) }
            return lines
        }
    }

    /// Nil when `id` is a valid identifier (SPEC §3.1), else the reason.
    public static func identifierProblem(_ id: String) -> String? {
        Identifier.problem(id)
    }

    static func describe(_ error: any Error) -> String {
        if let failure = error as? JSONParser.Failure { return failure.reason }
        return "is not valid JSON"
    }
}

/// Reads typed fields out of a JSON object, collecting problems with their full paths.
struct FieldReader {
    static let eventFields: Set<JSONKey> = [
        "id", "key", "organization", "project", "actor", "issue", "data", "recipients", "occurredAt",
    ]
    static let actorFields: Set<JSONKey> = ["id", "name"]
    static let issueFields: Set<JSONKey> = ["id", "shortId", "title", "url", "level", "culprit", "environment"]
    static let userRecipientFields: Set<JSONKey> = ["user"]
    static let teamRecipientFields: Set<JSONKey> = ["team"]
    static let addressRecipientFields: Set<JSONKey> = ["channel", "address", "notifier"]

    let path: String?
    private(set) var problems: [FieldError] = []

    init(path: String?) { self.path = path }

    func field(_ name: String) -> String {
        guard let path else { return name }
        return name.hasPrefix("[") ? path + name : "\(path).\(name)"
    }

    mutating func fail(_ name: String, _ message: String) {
        problems.append(FieldError(field: field(name), message: message))
    }

    mutating func append(_ more: [FieldError]) { problems.append(contentsOf: more) }

    /// Refuses every member of `members` not in `known`, naming it under this reader's path.
    mutating func refuseUnknown(_ members: [JSONKey: JSONValue], known: Set<JSONKey>, of what: String) {
        // The common case allocates nothing: sort only to report.
        guard !members.keys.allSatisfy({ Self.isKnown($0, in: known) }) else { return }
        for name in members.keys.sorted() where !Self.isKnown(name, in: known) {
            fail(Printable.escaped(name.string), "is not a field of \(what)")
        }
    }

    /// Whether `name` is one of `known`, byte for byte (`JSONKey`: `String` equality would take U+212A KELVIN
    /// SIGN for `K`, or U+037E GREEK QUESTION MARK for `;`).
    static func isKnown(_ name: JSONKey, in known: Set<JSONKey>) -> Bool {
        known.contains(name)
    }

    mutating func requiredIdentifier(_ members: [JSONKey: JSONValue], _ name: String) -> String? {
        guard let value = requiredString(members, name) else { return nil }
        if let problem = Identifier.problem(value) {
            fail(name, problem)
            return nil
        }
        return value
    }

    mutating func optionalIdentifier(_ members: [JSONKey: JSONValue], _ name: String) -> String? {
        guard let value = optionalString(members, name) else { return nil }
        if let problem = Identifier.problem(value) {
            fail(name, problem)
            return nil
        }
        return value
    }

    func hasProblem(at name: String) -> Bool {
        let full = field(name)
        return problems.contains {
            $0.field == full || $0.field.hasPrefix(full + "[") || $0.field.hasPrefix(full + ".")
        }
    }

    mutating func requiredString(_ members: [JSONKey: JSONValue], _ name: String) -> String? {
        switch members[name] {
        case nil, .null?:
            fail(name, "is required")
            return nil
        case .string(let value)?:
            if value.isEmpty {
                fail(name, "must not be empty")
                return nil
            }
            return checked(value, name)
        case let other?:
            fail(name, "must be a string, not \(other.typeName)")
            return nil
        }
    }

    mutating func optionalString(_ members: [JSONKey: JSONValue], _ name: String) -> String? {
        switch members[name] {
        case nil, .null?: return nil
        case .string(let value)?: return checked(value, name)
        case let other?:
            fail(name, "must be a string, not \(other.typeName)")
            return nil
        }
    }

    private mutating func checked(_ value: String, _ name: String) -> String? {
        if value.unicodeScalars.contains(where: { $0.value == 0 }) {
            fail(name, "must not contain NUL characters")
            return nil
        }
        return value
    }

    mutating func actor(_ value: JSONValue?) -> Actor? {
        switch value {
        case nil, .null?: return nil
        case .object(let members)?:
            var nested = FieldReader(path: field("actor"))
            nested.refuseUnknown(members, known: Self.actorFields, of: "an actor")
            let id = nested.requiredIdentifier(members, "id")
            let name = nested.optionalString(members, "name")
            problems.append(contentsOf: nested.problems)
            return id.map { Actor(id: $0, name: name) }
        case let other?:
            fail("actor", "must be an object or null, not \(other.typeName)")
            return nil
        }
    }

    /// `issue`; with `required` (issue-scoped built-in keys) it must be present with `id`, `shortId` and `title`.
    mutating func issue(_ value: JSONValue?, required: Bool) -> IssueReference? {
        switch value {
        case nil, .null?:
            if required { fail("issue", "is required for this key (with id, shortId and title)") }
            return nil
        case .object(let members)?:
            var nested = FieldReader(path: field("issue"))
            nested.refuseUnknown(
                members,
                known: Self.issueFields,
                of: "an issue"
            )
            let id = nested.requiredIdentifier(members, "id")
            let url = nested.optionalString(members, "url")
            if let url, let problem = AddressValidator.urlProblem(url) { nested.fail("url", problem) }
            let shortId =
                required ? nested.requiredString(members, "shortId") : nested.optionalString(members, "shortId")
            let title = required ? nested.requiredString(members, "title") : nested.optionalString(members, "title")
            let issue = IssueReference(
                id: id ?? "",
                shortId: shortId,
                title: title,
                url: url,
                level: nested.optionalString(members, "level"),
                culprit: nested.optionalString(members, "culprit"),
                environment: nested.optionalString(members, "environment")
            )
            problems.append(contentsOf: nested.problems)
            return id == nil ? nil : issue
        case let other?:
            fail("issue", "must be an object or null, not \(other.typeName)")
            return nil
        }
    }

    /// `recipients`: each exactly one of `{"user"}`, `{"team"}` or `{"channel", "address", "notifier"?}`; a
    /// notifier must be configured and of the recipient's channel.
    mutating func recipients(_ value: JSONValue?, notifiers: [Int: Channel]?) -> [RecipientSpec] {
        switch value {
        case nil, .null?: return []
        case .array(let elements)?:
            if elements.count > 1000 {
                fail("recipients", "holds more than 1000 recipients")
                return []
            }
            var result: [RecipientSpec] = []
            for (index, element) in elements.enumerated() {
                let name = "recipients[\(index)]"
                guard case .object(let members) = element else {
                    fail(name, "must be an object, not \(element.typeName)")
                    continue
                }
                var nested = FieldReader(path: field(name))
                let forms = ["user", "team", "address"].filter { members[$0] != nil }
                if forms.count > 1 {
                    nested.fail(
                        forms[1],
                        "cannot be combined with \"\(forms[0])\": a recipient is one user, one team or one address"
                    )
                } else if members["user"] != nil {
                    nested.refuseUnknown(members, known: Self.userRecipientFields, of: "a user recipient")
                    if let user = nested.requiredIdentifier(members, "user") { result.append(.user(user)) }
                } else if members["team"] != nil {
                    nested.refuseUnknown(members, known: Self.teamRecipientFields, of: "a team recipient")
                    if let team = nested.requiredIdentifier(members, "team") { result.append(.team(team)) }
                } else {
                    nested.refuseUnknown(
                        members,
                        known: Self.addressRecipientFields,
                        of: "an address recipient"
                    )
                    let channelName = nested.requiredString(members, "channel")
                    let address = nested.requiredString(members, "address")
                    let channel = channelName.flatMap(Channel.init(rawValue:))
                    if let channelName, channel == nil {
                        let names = Channel.allCases.map(\.rawValue).joined(separator: ", ")
                        nested.fail("channel", "\(Printable.quoted(channelName)) is not a channel (\(names))")
                    }
                    var notifier: Int?
                    switch members["notifier"] {
                    case nil, .null?: break
                    case .number(let number)? where number.rounded() == number && number > 0 && number < 1e9:
                        let id = Int(number)
                        if let notifiers, let channel {
                            if let configured = notifiers[id] {
                                if configured != channel {
                                    nested.fail(
                                        "notifier",
                                        "notifier \(id) is a \(configured.rawValue) notifier, not \(channel.rawValue)"
                                    )
                                } else {
                                    notifier = id
                                }
                            } else {
                                nested.fail("notifier", "no notifier \(id) is configured")
                            }
                        } else {
                            notifier = id
                        }
                    case _?: nested.fail("notifier", "must be a positive integer notifier id")
                    }
                    if let channel, let address {
                        if let problem = AddressValidator.problem(with: address, on: channel) {
                            nested.fail("address", problem)
                        } else if !nested.hasProblem(at: "notifier") {
                            result.append(.address(channel: channel, address: address, notifier: notifier))
                        }
                    }
                }
                problems.append(contentsOf: nested.problems)
            }
            return result
        case let other?:
            fail("recipients", "must be an array, not \(other.typeName)")
            return []
        }
    }
}
