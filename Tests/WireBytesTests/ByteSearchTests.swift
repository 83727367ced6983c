import Testing
import WireBytes

@Suite struct ByteSearchTests {
    /// Against a plain loop, from every start offset, on buffers of every length up to 40 with the
    /// searched byte at every position, next to look-alike bytes (0x12, 0x14, 0x93) and 0x00/0xff.
    @Test func agreesWithAPlainScan() {
        var rng = SystemRandomNumberGenerator()
        for length in 0...40 {
            for trial in 0..<30 {
                var bytes = (0..<length).map { _ in [0x12, 0x14, 0x93, 0x00, 0xff, 0x80][Int.random(in: 0..<6, using: &rng)] as UInt8 }
                if length > 0, trial % 3 != 0 { bytes[Int.random(in: 0..<length, using: &rng)] = 0x13 }
                if length > 1, trial % 5 == 0 { bytes[Int.random(in: 0..<length, using: &rng)] = 0x13 }
                bytes.withUnsafeBytes { b in
                    for from in -1...(length + 1) {
                        let expected = from < 0 ? nil : (from..<max(from, length)).first { bytes[$0] == 0x13 }
                        #expect(b.offset(ofByte: 0x13, from: from) == expected, "\(bytes) from \(from)")
                        let zero = from < 0 ? nil : (from..<max(from, length)).first { bytes[$0] == 0 }
                        #expect(b.offset(ofByte: 0, from: from) == zero)
                    }
                }
            }
        }
    }

    @Test func emptyBuffer() {
        #expect(UnsafeRawBufferPointer(start: nil, count: 0).offset(ofByte: 0, from: 0) == nil)
    }
}
