import Foundation
import HeraldCore

/// A token bucket that hands out reservations: when no token is left, the caller learns when its turn comes,
/// and that turn is kept for it (the balance goes negative), so waiters are spread out instead of stampeding.
struct TokenBucket: Sendable {
    let limit: RateLimit
    private var tokens: Double
    private var updatedAt: Date

    init(limit: RateLimit, now: Date) {
        self.limit = limit
        self.tokens = Double(max(1, limit.burst))
        self.updatedAt = now
    }

    /// Takes one token; returns `now` when one was available, else the time the reserved token becomes due.
    mutating func reserve(now: Date) -> Date {
        guard !limit.isUnlimited else { return now }
        refill(now: now)
        tokens -= 1
        if tokens >= 0 { return now }
        return now.addingTimeInterval(-tokens / limit.perSecond)
    }

    /// Whether the bucket is full again (safe to forget).
    func isIdle(now: Date) -> Bool {
        limit.isUnlimited
            || tokens + now.timeIntervalSince(updatedAt) * limit.perSecond >= Double(max(1, limit.burst))
    }

    private mutating func refill(now: Date) {
        let elapsed = max(0, now.timeIntervalSince(updatedAt))
        tokens = min(Double(max(1, limit.burst)), tokens + elapsed * limit.perSecond)
        updatedAt = now
    }
}
