// UDPFlowClassifier.compactState: the flow layer keeps these bits instead of the classifier while a UDP
// flow is still probed with nothing tracked (issue 6), so a classifier restored from them after every
// datagram must behave exactly like one kept whole. Datagrams from UTPTests (bittorrent_utp.pcap,
// frames 3-6) and UDPTrackerTests (its connect/announce exchange).
import Testing
import BitTorrentClassifier
import TorscanTestSupport

@Suite struct UDPFlowCompactStateTests {
    /// Runs the datagrams through a classifier kept whole and one kept as its bits whenever it has them.
    static func both(_ datagrams: [([UInt8], Bool)], isIPv6: Bool = false)
        -> (whole: [UDPFlowLabel], compacted: [UDPFlowLabel], wholeEvents: [String], compactedEvents: [String], compactAfter: [Bool]) {
        var whole = UDPFlowClassifier(), compacted = UDPFlowClassifier()
        whole.isIPv6 = isIPv6; compacted.isIPv6 = isIPv6
        var ws = RecordingSink(), cs = RecordingSink()
        var labels: ([UDPFlowLabel], [UDPFlowLabel]) = ([], []), compactAfter: [Bool] = []
        for (d, fromInitiator) in datagrams {
            withBytes(d) { whole.consume($0, fromInitiator: fromInitiator, sink: &ws) }
            withBytes(d) { compacted.consume($0, fromInitiator: fromInitiator, sink: &cs) }
            compactAfter.append(compacted.compactState != nil)
            if let bits = compacted.compactState {
                compacted = UDPFlowClassifier(compactState: bits)
                #expect(compacted.isIPv6 == isIPv6)
            }
            labels.0.append(whole.label); labels.1.append(compacted.label)
        }
        return (labels.0, labels.1, ws.events.map { "\($0)" }, cs.events.map { "\($0)" }, compactAfter)
    }

    @Test func unrecognisedDatagramsStayCompactUntilTheProbeBudgetEnds() {
        let zeros = [UInt8](repeating: 0, count: 32)
        let r = Self.both(Array(repeating: (zeros, true), count: UDPFlowClassifier.maxProbeDatagrams + 2), isIPv6: true)
        #expect(r.whole == r.compacted)
        #expect(r.compacted.prefix(UDPFlowClassifier.maxProbeDatagrams - 1).allSatisfy { $0 == .undecided })
        #expect(r.compacted.last == .other)
        // Undecided with nothing tracked: bits; decided: none (the flow layer forgets such a flow).
        #expect(r.compactAfter == Array(repeating: true, count: UDPFlowClassifier.maxProbeDatagrams - 1)
                + Array(repeating: false, count: 3))
    }

    @Test func uTPHandshakeIsFoundThroughTheBits() {
        let r = Self.both([(UTPTests.syn, true), (UTPTests.state, false), (UTPTests.data5, true), (UTPTests.data6, false)])
        #expect(r.whole == r.compacted && r.compacted.last == .utp)
        #expect(r.wholeEvents == r.compactedEvents && !r.compactedEvents.isEmpty)
        // The SYN starts a uTP connection tracker: no longer representable by the bits.
        #expect(r.compactAfter == [false, false, false, false])
    }

    @Test func trackerExchangeIsFoundThroughTheBits() {
        let zeros = [UInt8](repeating: 0, count: 20)
        let r = Self.both([(zeros, true), (UDPTrackerTests.connect, true), (UDPTrackerTests.connectResponse, false),
                           (UDPTrackerTests.announce, true), (UDPTrackerTests.announceResponse, false)])
        #expect(r.whole == r.compacted && r.compacted.last == .udpTracker)
        #expect(r.wholeEvents == r.compactedEvents && r.compactedEvents.count == 4)
        #expect(r.compactAfter == [true, false, false, false, false])
    }

    @Test func everyCompactStateRoundTrips() {
        for probed in 0...UDPFlowClassifier.maxProbeDatagrams - 1 {
            for flags in 0..<4 {
                let bits = UInt32(probed) | UInt32(flags) << 8
                #expect(UDPFlowClassifier(compactState: bits).compactState == bits)
            }
        }
    }
}
