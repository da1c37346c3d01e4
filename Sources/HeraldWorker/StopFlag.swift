import Synchronization

/// A one-way flag shared between a loop and the code that stops it.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    init() {}

    /// Raises the flag.
    func set() { value.store(true, ordering: .relaxed) }

    /// Whether the flag was raised.
    var isSet: Bool { value.load(ordering: .relaxed) }
}
