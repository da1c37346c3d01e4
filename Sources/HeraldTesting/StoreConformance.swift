import Foundation
import HeraldCore

/// An expectation of a conformance check that did not hold; the message starts with the file and line.
public struct ConformanceFailure: Error, Sendable, CustomStringConvertible {
    /// What was expected and what happened, prefixed with `file:line:`.
    public var message: String

    /// Creates a failure at the caller's position.
    public init(_ message: String, file: StaticString = #fileID, line: UInt = #line) {
        self.message = "\(file):\(line): \(message)"
    }

    /// The message.
    public var description: String { message }
}

/// One named behaviour of the `Store` contract, runnable against any store.
public struct StoreConformanceCheck: Sendable {
    /// A short sentence naming the behaviour, unique in the suite.
    public var name: String
    /// Runs the check against a fresh, empty store; throws `ConformanceFailure` when the store misbehaves.
    public var run: @Sendable (any Store) async throws -> Void

    /// Creates a check.
    public init(name: String, run: @escaping @Sendable (any Store) async throws -> Void) {
        self.name = name
        self.run = run
    }
}

/// The behaviour every `Store` implementation must show (SPEC §2, §3.1, §5, §13), as checks a test target runs
/// against a fresh store each:
///
/// ```swift
/// @Test(arguments: StoreConformance.checks.map(\.name))
/// func conformance(_ name: String) async throws {
///     let store = try makeEmptyStore()
///     try await StoreConformance.check(named: name)!.run(store)
/// }
/// ```
///
/// Each check migrates the store first, uses fixed millisecond-aligned times (no clock, no sleeping) and
/// compares times to the millisecond.
public struct StoreConformance: Sendable {
    /// Every check of the suite.
    public static let checks: [StoreConformanceCheck] = [
        check("migrate is idempotent and an empty store reports zeros", emptyStore),
        check("enqueue stores events with their acceptance time", enqueueStoresEvents),
        check("enqueue answers an identical resubmission with the original id", enqueueDuplicate),
        check("enqueue refuses a reused key with a different body and stores nothing", enqueueConflict),
        check("enqueue handles a key repeated within one batch", enqueueKeyRepeatedInBatch),
        check("enqueue refuses an event id already taken", enqueueTakenEventId),
        check("claimEvents leases the oldest events first", claimEventsOldestFirst),
        check("claimEvents reclaims events whose lease expired", claimEventsLeaseExpiry),
        check("hasClaimableEvents follows accepted events and leases", hasClaimableEvents),
        check("completeFanOut stores deliveries and suppressions", completeFanOutStores),
        check("completeFanOut applies an event once", completeFanOutOnce),
        check("completeFanOut of an unknown event stores nothing", completeFanOutUnknownEvent),
        check("claimDeliveries leases due deliveries earliest first", claimDeliveriesEarliestFirst),
        check("claimDeliveries reclaims deliveries whose lease expired", claimDeliveriesLeaseExpiry),
        check("apply delivered records the receipt", applyDelivered),
        check("apply retry schedules the next attempt", applyRetry),
        check("apply dead makes a dead letter", applyDead),
        check("apply deferred returns the delivery without counting an attempt", applyDeferred),
        check("apply ignores deliveries that are not leased", applyIgnoresUnleased),
        check("claimed deliveries carry their lease, each claim its own token", claimsCarryTheirLease),
        check("the fence refuses outcomes of a lease that was re-claimed", fenceRefusesAReclaimedLease),
        check("the fence accepts an expired lease nobody re-claimed", fenceAcceptsAnExpiredLeaseNobodyReclaimed),
        check("apply handles a mixed batch", applyMixedBatch),
        check("applyAndClaim records outcomes, then claims, in one call", applyAndClaim),
        check("nextDeliveryDue and status follow the queue", nextDueAndStatus),
        check("deliveries lists by state, most recently updated first", deliveriesListing),
        check("requeueDead replays dead letters only", requeueDead),
        check("prune removes what retention allows", prune),
        check("prune keeps events whose idempotency key is remembered", pruneKeepsRememberedEvents),
        check("a batch of hundreds goes through the whole pipeline", wholePipelineBatch),
        check("an empty store has an empty directory", directoryEmpty),
        check("importDirectory then loadDirectory round-trips every field", directoryRoundTrip),
        check("importDirectory upserts by id and keeps what it does not name", directoryImportUpserts),
        check("directoryVersion follows imports and preferences, not fan-out subscriptions", directoryVersionChanges),
        check("completeFanOut stores implicit subscription changes once", fanOutStoresSubscriptions),
        check("completeFanOut never re-activates an unsubscribe nor overwrites a row", fanOutKeepsUnsubscribes),
        check("completeFanOut removes active subscriptions and keeps unsubscribes", fanOutRemovesActiveSubscriptions),
        check("replacePreferences removes and upserts in one step", replacePreferences),
        check("a directory of 5,000 users round-trips", directoryAtScale),
        check("eventRecord returns every suppression of a large fan-out", largeSuppressionGroups),
        check("completeFanOut records a cut compactly and eventRecord expands it", suppressionCuts),
        check("suppressAddress is idempotent, keeps the first reason and bumps the version", addressSuppressions),
        check("destination pauses are shared, keep the later end and expire", destinationPauses),
        check(
            "issueOTP stores the passcode, its fanned-out event and its expiring delivery",
            otpIssueStoresRecordEventAndExpiringDelivery
        ),
        check("issueOTP honours the destination's interval and hourly limits", otpIssueHonoursDestinationLimits),
        check("recordOTPAttempt verifies once and locks after five wrong codes", otpAttemptsVerifyOnceAndLock),
        check("recordOTPAttempt on an expired passcode changes nothing", otpExpiredAttemptsChangeNothing),
        check("prune removes passcodes a day past their expiry", otpPrunedADayPastExpiry),
        check("listEvents pages newest first with filters", listEventsPaging),
        check("listDeliveries pages by id with state and channel filters", listDeliveriesPaging),
        check("updateDirectory removes records with what they own and upserts in one step", updateDirectoryRemoves),
        check("stored catalog entries round-trip and replace by key", catalogEntriesRoundTrip),
    ]

    /// The check called `name`, if the suite has one.
    public static func check(named name: String) -> StoreConformanceCheck? {
        checks.first { $0.name == name }
    }

    private static func check(
        _ name: String,
        _ body: @escaping @Sendable (any Store) async throws -> Void
    ) -> StoreConformanceCheck {
        StoreConformanceCheck(name: name) { store in
            try await store.migrate()
            try await body(store)
        }
    }
}

// MARK: - Expectations

extension StoreConformance {
    static func expect(
        _ condition: Bool,
        _ message: @autoclosure () -> String,
        file: StaticString = #fileID,
        line: UInt = #line
    ) throws {
        if !condition { throw ConformanceFailure(message(), file: file, line: line) }
    }

    static func expectEqual<Value: Equatable>(
        _ actual: Value,
        _ expected: Value,
        _ what: String,
        file: StaticString = #fileID,
        line: UInt = #line
    ) throws {
        if actual != expected {
            throw ConformanceFailure("\(what): expected \(expected), got \(actual)", file: file, line: line)
        }
    }

    /// Compares times to the millisecond (the resolution every store keeps).
    static func expectSameTime(
        _ actual: Date?,
        _ expected: Date?,
        _ what: String,
        file: StaticString = #fileID,
        line: UInt = #line
    ) throws {
        try expectEqual(actual.map(millis), expected.map(millis), "\(what) (ms)", file: file, line: line)
    }

    static func unwrap<Value>(
        _ value: Value?,
        _ what: String,
        file: StaticString = #fileID,
        line: UInt = #line
    ) throws -> Value {
        guard let value else { throw ConformanceFailure("\(what): expected a value, got nil", file: file, line: line) }
        return value
    }

    /// Runs `body`, which must throw; returns the error.
    static func expectError<Value>(
        _ what: String,
        file: StaticString = #fileID,
        line: UInt = #line,
        _ body: () async throws -> Value
    ) async throws -> any Error {
        do {
            let value = try await body()
            throw ConformanceFailure("\(what): expected an error, got \(value)", file: file, line: line)
        } catch let failure as ConformanceFailure {
            throw failure
        } catch {
            return error
        }
    }

    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
