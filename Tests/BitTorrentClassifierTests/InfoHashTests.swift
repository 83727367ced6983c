import Testing
import BitTorrentClassifier

@Suite struct InfoHashTests {
    @Test func roundTripsHex() {
        let hex = "dcfcdccf3c4ba8e1b5a6d2e0f2f5c7b2a1e13126"
        #expect(InfoHash(hex: hex)?.hex == hex)
        #expect(InfoHash(hex: hex.uppercased())?.hex == hex)
        let v2 = String(repeating: "ab", count: 32)
        #expect(InfoHash(hex: v2)?.byteCount == 32)
        #expect(InfoHash(hex: v2)?.truncated.hex == String(repeating: "ab", count: 20))
    }

    @Test func rejectsOtherLengthsAndDigits() {
        #expect(InfoHash(hex: "abcd") == nil)
        #expect(InfoHash(hex: String(repeating: "zz", count: 20)) == nil)
        #expect(InfoHash(hex: String(repeating: "a", count: 41)) == nil)
    }
}
