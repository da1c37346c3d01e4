import Foundation
import HeraldCore
import Synchronization

/// A wall clock that moves only when told to, so retry and lease timing is tested without sleeping.
public final class ManualClock: WallClock, Sendable {
    private let current: Mutex<Date>

    /// A clock standing at `start`.
    public init(start: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    /// Sets the clock.
    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}
