import HeraldAPI
import Testing

@Suite struct APIErrorCodeTests {
    @Test func codesAreScreamingSnakeCaseAndUnique() {
        let raw = APIErrorCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        for code in raw {
            #expect(code.allSatisfy { $0.isUppercase || $0 == "_" }, "\(code)")
        }
    }
}
