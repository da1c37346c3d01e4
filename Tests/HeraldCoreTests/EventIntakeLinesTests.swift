import Foundation
import HeraldCore
import Testing

/// JSON-lines documents large enough to be parsed and validated on several cores give the same events, in the
/// same order, and the same problems, in line order, as a small one read line by line.
@Suite("Event intake of large JSON-lines documents")
struct EventIntakeLinesTests {
    let intake = EventIntake(catalog: Catalog())
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func line(_ number: Int) -> String {
        #"{"id":"evt_\#(number)","key":"resolved","organization":"acme","issue":{"id":"\#(number)","shortId":"A-\#(number)","title":"T"}}"#
    }

    func document(_ lines: [String]) -> Data { Data(lines.joined(separator: "\n").utf8) }

    @Test(arguments: [2, 700, 3_001])
    func eventsComeBackInLineOrder(count: Int) throws {
        var lines = (1...count).map(line)
        lines.insert("   ", at: count / 2)
        let events = try intake.parseDocument(document(lines), now: now)
        #expect(events.map(\.event.id) == (1...count).map { "evt_\($0)" })
        #expect(events.map(\.idempotencyKey) == (1...count).map { "evt_\($0)" })
    }

    @Test func brokenLinesAreReportedInLineOrderAndNothingIsAccepted() {
        var lines = (1...2_000).map(line)
        lines[2] = #"{"id":"evt_3","key":"resolved""#
        lines[1_499] = "not json"
        do {
            _ = try intake.parseDocument(document(lines), now: now)
            Issue.record("a document with broken lines was accepted")
        } catch {
            #expect(error.details.map(\.field).map { $0.hasPrefix("line 3") } == [true, false])
            #expect(error.details.map(\.field).map { $0.hasPrefix("line 1500") } == [false, true])
        }
    }

    @Test func invalidEventsAreNamedByTheirIndexInLineOrder() {
        var lines = (1...1_500).map(line)
        lines[10] = #"{"id":"evt_11","key":"resolved","organization":"acme"}"#
        lines[1_200] = #"{"id":"evt_1201","key":"no_such_key","organization":"acme"}"#
        do {
            _ = try intake.parseDocument(document(lines), now: now)
            Issue.record("a document with invalid events was accepted")
        } catch {
            let fields = error.details.map(\.field)
            #expect(fields.count >= 2)
            #expect(fields.first?.hasPrefix("events[10]") == true)
            #expect(fields.last?.hasPrefix("events[1200]") == true)
        }
    }
}
