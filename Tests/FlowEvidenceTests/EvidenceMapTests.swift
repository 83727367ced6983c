// EvidenceMap: the evidence table's map from key to accumulator, checked against a Dictionary.
import Testing
import WireBytes
import PacketDecode
import BitTorrentClassifier
@testable import FlowEvidence

@Suite struct EvidenceMapTests {
    /// Keys that differ in one field each (address, infohash, day, proxy), 5,000 of them: past
    /// several doublings of the index and past chunk boundaries of the entries.
    static func keys(_ n: Int) -> [EvidenceKey] {
        let hashes = [InfoHash(hex: "aa3769c4530dde06241873dad43ab5ccec2ce622")!,
                      InfoHash(hex: "bb3769c4530dde06241873dad43ab5ccec2ce622")!]
        let proxy = ProxyEndpoint(address: IPAddress("192.0.2.9")!, port: 1080)
        return (0..<n).map { i in
            EvidenceKey(ip: IPAddress(v4: 0x0A00_0000 | UInt32(i / 8)), infoHash: hashes[i & 1],
                        day: 20_000 + Int64(i >> 1 & 1), via: i >> 2 & 1 == 1 ? proxy : nil)
        }
    }

    @Test func findsWhatADictionaryFinds() {
        let keys = Self.keys(5_000)
        var map = EvidenceMap()
        var reference: [EvidenceKey: EvidenceAccumulator] = [:]
        for (i, k) in keys.enumerated() {
            #expect(map[k] == nil)
            let a = EvidenceAccumulator(timestamp: Timestamp(seconds: Int64(i), nanos: 0))
            map[k] = a
            reference[k] = a
            #expect(map[k] === a && map.count == i + 1)
        }
        #expect(keys.allSatisfy { map[$0] === reference[$0] })
        // A key not inserted (another day) is not found.
        #expect(map[EvidenceKey(ip: keys[0].ip, infoHash: keys[0].infoHash, day: 1)] == nil)
        // Iteration: every entry once, in insertion order.
        #expect(map.map(\.key) == keys && Array(map.keys) == keys)
        #expect(map.allSatisfy { reference[$0.key] === $0.value })
    }

    /// Every key with the same hash: found by comparing keys along one probe run.
    @Test func collidingHashesStayApart() {
        let keys = Self.keys(300)
        var map = EvidenceMap(hash: { _ in 7 })
        let accs = keys.map { _ in EvidenceAccumulator(timestamp: Timestamp(seconds: 1, nanos: 0)) }
        for (k, a) in zip(keys, accs) { map[k] = a }
        #expect(zip(keys, accs).allSatisfy { map[$0] === $1 } && map.count == 300)
        #expect(map[EvidenceKey(ip: keys[0].ip, infoHash: keys[0].infoHash, day: 1)] == nil)
    }

    @Test func replacesAndEmpties() {
        let keys = Self.keys(40)
        var map = EvidenceMap()
        for k in keys { map[k] = EvidenceAccumulator(timestamp: Timestamp(seconds: 1, nanos: 0)) }
        let other = EvidenceAccumulator(timestamp: Timestamp(seconds: 2, nanos: 0))
        map[keys[7]] = other
        #expect(map[keys[7]] === other && map.count == 40)
        map.removeAll()
        #expect(map.isEmpty && map[keys[7]] == nil && map.makeIterator().next() == nil)
        map[keys[3]] = other
        #expect(map.count == 1 && map[keys[3]] === other)
    }
}
