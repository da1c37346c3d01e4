import Foundation
import HeraldCore
import Testing

@testable import HeraldWorker

/// Fan-out plans a batch on two lanes; events about one issue must stay in one lane, in their order.
@Suite struct FanOutLaneTests {
    private func event(_ id: String, issue: String?, project: String? = "backend") -> Event {
        Event(
            id: id,
            key: "assigned",
            organization: "acme",
            project: project,
            issue: issue.map { IssueReference(id: $0) },
            occurredAt: Date(timeIntervalSince1970: 1_800_000_000)
        )
    }

    @Test func eventsOfOneIssueShareALaneInOrder() {
        let events = [
            event("e0", issue: "i1"), event("e1", issue: "i2"), event("e2", issue: nil), event("e3", issue: "i1"),
            event("e4", issue: "i1", project: "frontend"), event("e5", issue: "i2"), event("e6", issue: "i1"),
            event("e7", issue: nil),
        ]
        let lanes = FanOutStage.lanes(of: events, count: 2)
        #expect(lanes.flatMap { $0 }.sorted() == Array(events.indices))
        for lane in lanes { #expect(lane == lane.sorted()) }
        func lane(of index: Int) -> Int? { lanes.firstIndex { $0.contains(index) } }
        #expect(lane(of: 0) == lane(of: 3))
        #expect(lane(of: 0) == lane(of: 6))
        #expect(lane(of: 1) == lane(of: 5))
        #expect(lanes.allSatisfy { !$0.isEmpty })
    }

    @Test func eventsWithoutIssuesSpreadEvenly() {
        let events = (0..<100).map { event("e\($0)", issue: nil) }
        let lanes = FanOutStage.lanes(of: events, count: 2)
        #expect(lanes.map(\.count) == [50, 50])
    }
}
