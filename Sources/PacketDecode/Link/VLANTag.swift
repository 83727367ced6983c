// IEEE 802.1Q tag (and IEEE 802.1ad S-tag, same layout): after the TPID (0x8100 / 0x88A8) come the
// Tag Control Information (PCP 3 bits, DEI 1 bit, VID 12 bits) and the encapsulated Length/Type.
import WireBytes

enum VLANTag {
    /// TCI (2) + inner EtherType (2); the TPID was the previous EtherType field.
    static let length = 4

    static func innerType(_ frame: UnsafeRawBufferPointer, at offset: Int) -> UInt16? {
        frame.u16be(at: offset + 2)
    }
}
