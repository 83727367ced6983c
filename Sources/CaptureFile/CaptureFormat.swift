// Capture container formats, recognised by their magic bytes, never by file name
// (the public corpus has pcapng files named .pcap and the reverse).
import WireBytes

public enum CaptureFormat: String, Sendable {
    case pcap, pcapng
}

public enum Compression: String, Sendable {
    case none, gzip, zstd
}

public enum FormatSniffer {
    /// gzip (RFC 1952: 1f 8b) or zstd (RFC 8878: 28 b5 2f fd) from the first bytes.
    public static func compression(of head: UnsafeRawBufferPointer) -> Compression {
        if head.u8(at: 0) == 0x1f, head.u8(at: 1) == 0x8b { return .gzip }
        if head.u32le(at: 0) == 0xFD2F_B528 { return .zstd }
        return .none
    }

    /// pcap (the four microsecond/nanosecond magics in either byte order) or pcapng (Section Header
    /// Block type 0x0A0D0D0A, a palindrome, so it reads the same in both orders).
    public static func format(of head: UnsafeRawBufferPointer) -> CaptureFormat? {
        guard let m = head.u32le(at: 0) else { return nil }
        switch m {
        case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1: return .pcap
        case 0x0A0D_0D0A: return .pcapng
        default: return nil
        }
    }
}
