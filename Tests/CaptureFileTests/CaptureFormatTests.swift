import Testing
import CaptureFile

@Suite struct CaptureFormatTests {
    @Test(arguments: [
        ([0xd4, 0xc3, 0xb2, 0xa1], CaptureFormat.pcap),     // little-endian microseconds
        ([0xa1, 0xb2, 0xc3, 0xd4], .pcap),                   // big-endian microseconds
        ([0x4d, 0x3c, 0xb2, 0xa1], .pcap),                   // little-endian nanoseconds
        ([0x0a, 0x0d, 0x0d, 0x0a], .pcapng),
    ] as [([UInt8], CaptureFormat)])
    func sniffsMagic(bytes: [UInt8], expected: CaptureFormat) {
        bytes.withUnsafeBytes { #expect(FormatSniffer.format(of: $0) == expected) }
    }

    @Test func rejectsShortAndForeignMagic() {
        [UInt8]([0xd4, 0xc3]).withUnsafeBytes { #expect(FormatSniffer.format(of: $0) == nil) }
        [UInt8]([0x50, 0x4b, 0x03, 0x04]).withUnsafeBytes { #expect(FormatSniffer.format(of: $0) == nil) }
        [UInt8]([0x1f, 0x8b, 0x08, 0x00]).withUnsafeBytes { #expect(FormatSniffer.compression(of: $0) == .gzip) }
        [UInt8]([0x28, 0xb5, 0x2f, 0xfd]).withUnsafeBytes { #expect(FormatSniffer.compression(of: $0) == .zstd) }
    }
}
