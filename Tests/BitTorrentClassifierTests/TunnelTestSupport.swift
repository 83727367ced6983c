// Shared drivers for the tunnel tests: feed messages or capture flows to a TunnelDetector the way
// the flow layer will (TunnelDetector.swift header), and collect what it hands back as tunnelled.
import Testing
import TorscanTestSupport
@testable import BitTorrentClassifier

struct TunnelRun {
    var detector = TunnelDetector()
    /// Tunnelled bytes per direction (client, server), deferred bytes first.
    var clientPayload: [UInt8] = []
    var serverPayload: [UInt8] = []
    /// Bytes handed back after .notATunnel (held + later), to classify directly.
    var directBytes = 0
    private var started = false

    mutating func feed(_ bytes: [UInt8], fromClient: Bool) {
        let n = bytes.withUnsafeBytes { detector.consume($0, fromClient: fromClient) }
        #expect(n >= 0 && n <= bytes.count)
        switch detector.state {
        case .open:
            if !started {
                started = true
                clientPayload += detector.takeDeferredBytes(fromClient: true)
                serverPayload += detector.takeDeferredBytes(fromClient: false)
            }
            if fromClient { clientPayload += bytes[n...] } else { serverPayload += bytes[n...] }
        case .notATunnel:
            #expect(n == 0)
            if !started {
                started = true
                directBytes += detector.takeDeferredBytes(fromClient: true).count + detector.takeDeferredBytes(fromClient: false).count
            }
            directBytes += bytes.count
        case .probing, .failed:
            #expect(n == bytes.count)
        }
    }

    /// Messages in wire order: (hex, fromClient).
    static func messages(_ m: [(String, Bool)]) -> TunnelRun {
        var r = TunnelRun()
        for (hex, c) in m { r.feed(hexBytes(hex), fromClient: c) }
        return r
    }

    /// The same messages fed one byte at a time.
    static func dripFed(_ m: [(String, Bool)]) -> TunnelRun {
        var r = TunnelRun()
        for (hex, c) in m { for b in hexBytes(hex) { r.feed([b], fromClient: c) } }
        return r
    }

    /// A capture flow's segments.
    static func flow(_ f: TestTCPFlow) -> TunnelRun {
        var r = TunnelRun()
        for s in f.segments { r.feed(s.payload, fromClient: s.fromInitiator) }
        return r
    }

    var info: TunnelInfo? { if case .open(let i) = detector.state { i } else { nil } }
    var failure: TunnelFailure? { if case .failed(let f) = detector.state { f } else { nil } }
}

/// Every prefix of a positive (cut anywhere in the byte sequence of the messages): no trap, and the
/// state is either still .probing or exactly the full run's final state (never a different value).
func tunnelTruncationSweep(_ m: [(String, Bool)], sourceLocation: SourceLocation = #_sourceLocation) {
    let full = TunnelRun.messages(m).detector.state
    let parts = m.map { (hexBytes($0.0), $0.1) }
    let total = parts.reduce(0) { $0 + $1.0.count }
    for cut in 0...total {
        var r = TunnelRun()
        var left = cut
        for (bytes, c) in parts where left > 0 {
            let take = min(left, bytes.count)
            r.feed(Array(bytes[..<take]), fromClient: c)
            left -= take
        }
        let s = r.detector.state
        #expect(s == .probing || s == full, "prefix \(cut)/\(total): \(s)", sourceLocation: sourceLocation)
    }
}

/// The first TCP flow of a sample capture whose responder listens on `port`.
func tunnelSampleFlow(_ file: String, port: UInt16, index: Int = 0) -> TestTCPFlow? {
    guard let cap = TunnelTestFiles.sample(file) else { Issue.record("missing SampleCaptures/tunnels/\(file)"); return nil }
    let flows = cap.tcp.filter { $0.responder.port == port }
    guard index < flows.count else { Issue.record("\(file): no flow \(index) to port \(port)"); return nil }
    return flows[index]
}

extension Array where Element == UInt8 {
    func starts(with ascii: String) -> Bool { starts(with: Array<UInt8>(ascii.utf8)) }
}
