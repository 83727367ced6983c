import Testing
import FlowEvidence

@Suite struct ConfidenceTests {
    @Test func ordersStrongestLast() {
        #expect(Confidence.allCases.sorted().map(\.description) == ["announce", "handshake", "transfer", "verified"])
    }
}
