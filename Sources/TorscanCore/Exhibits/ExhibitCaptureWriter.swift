// Serialises the packets of an exhibit as a capture file that Wireshark, tcpdump and torscan read:
// - pcap with the nanosecond magic 0xA1B23C4D (pcap-savefile(5); draft-ietf-opsawg-pcap §4) when all
//   packets share one link type and every timestamp fits the format's unsigned 32-bit seconds;
// - otherwise pcapng (draft-ietf-opsawg-pcapng): one Section Header Block, one Interface Description
//   Block per link type (if_tsresol = 9: nanoseconds), one Enhanced Packet Block per packet.
// Everything is written little-endian. Packet bytes go to an anonymous spool file (memory stays
// bounded however long the flows are); only a small record per packet stays in memory.
import Foundation
import WireBytes

public struct ExhibitCaptureWriter {
    public enum Format: String, Sendable { case pcap, pcapng }

    /// Snap length written in headers: tcpdump's default, raised when a packet is longer.
    static let defaultSnapLength = 262_144
    /// pcapng option codes (draft-ietf-opsawg-pcapng §4.2): if_tsresol, and opt_endofopt.
    static let optionTimestampResolution: UInt16 = 9, optionEnd: UInt16 = 0

    /// Bytes buffered before the spool or the output is written to (and the read-back chunk size).
    public static let chunkSize = 1 << 20

    struct Packet { var linkType: LinkType; var timestamp: Timestamp; var originalLength: Int; var offset: Int; var length: Int }
    private var packets: [Packet] = []
    private let spool = Spool()

    public init() {}

    public var count: Int { packets.count }

    public mutating func append(linkType: LinkType, timestamp: Timestamp, originalLength: Int, data: UnsafeRawBufferPointer) {
        packets.append(Packet(linkType: linkType, timestamp: timestamp, originalLength: max(originalLength, data.count),
                              offset: spool.size, length: data.count))
        spool.append(data)
    }

    /// pcap when possible, pcapng when the link types differ or a timestamp does not fit pcap.
    public var format: Format {
        let types = Set(packets.map(\.linkType))
        let fits = packets.allSatisfy { $0.timestamp.nanoseconds >= 0 && $0.timestamp.seconds <= Int64(UInt32.max) }
        return types.count <= 1 && fits ? .pcap : .pcapng
    }

    /// The whole capture in memory (small exhibits, tests).
    public func serialized() throws -> Data {
        var all = Data()
        try serialize { all.append($0) }
        return all
    }

    /// The capture in chunks of about `chunkSize` bytes, in order.
    public func serialize(_ emit: (Data) throws -> Void) throws {
        var out = Data()
        func flush(_ force: Bool = false) throws { if force || out.count >= Self.chunkSize { try emit(out); out.removeAll(keepingCapacity: true) } }
        let snap = UInt32(max(Self.defaultSnapLength, packets.map(\.length).max() ?? 0))
        switch format {
        case .pcap:
            out.le32(0xA1B2_3C4D); out.le16(2); out.le16(4)
            out.le32(0); out.le32(0)                      // thiszone, sigfigs
            out.le32(snap); out.le32(UInt32(packets.first?.linkType.rawValue ?? LinkType.ethernet.rawValue))
            for p in packets {
                out.le32(UInt32(p.timestamp.seconds)); out.le32(UInt32(p.timestamp.subsecondNanos))
                out.le32(UInt32(p.length)); out.le32(UInt32(clamping: p.originalLength))
                try spool.read(offset: p.offset, count: p.length, into: &out)
                try flush()
            }
        case .pcapng:
            out.le32(0x0A0D_0D0A); out.le32(28); out.le32(0x1A2B_3C4D); out.le16(1); out.le16(0)
            out.le64(UInt64.max)                          // section length: not specified
            out.le32(28)
            var interfaceOf: [LinkType: UInt32] = [:]
            for t in packets.map(\.linkType) where interfaceOf[t] == nil {
                interfaceOf[t] = UInt32(interfaceOf.count)
                out.le32(1); out.le32(32); out.le16(UInt16(truncatingIfNeeded: t.rawValue)); out.le16(0); out.le32(snap)
                out.le16(Self.optionTimestampResolution); out.le16(1); out.append(contentsOf: [9, 0, 0, 0])
                out.le16(Self.optionEnd); out.le16(0)
                out.le32(32)
            }
            for p in packets {
                let padded = (p.length + 3) & ~3
                let total = UInt32(32 + padded)
                let ts = UInt64(bitPattern: p.timestamp.nanoseconds)
                out.le32(6); out.le32(total); out.le32(interfaceOf[p.linkType]!)
                out.le32(UInt32(ts >> 32)); out.le32(UInt32(ts & 0xFFFF_FFFF))
                out.le32(UInt32(p.length)); out.le32(UInt32(clamping: p.originalLength))
                try spool.read(offset: p.offset, count: p.length, into: &out)
                out.append(contentsOf: [UInt8](repeating: 0, count: padded - p.length))
                out.le32(total)
                try flush()
            }
        }
        try flush(true)
    }
}

public struct SpoolError: Error, CustomStringConvertible {
    public var description: String
}

/// An unlinked temporary file that packet bytes are appended to and read back from.
final class Spool {
    private var fd: Int32 = -1
    private var pending: [UInt8] = []
    private(set) var size = 0
    private var failure: String?

    init() {
        var template = Array((FileManager.default.temporaryDirectory.path + "/torscan-exhibit-XXXXXX").utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } } else { failure = "cannot create a spool file: \(String(cString: strerror(errno)))" }
    }

    deinit { if fd >= 0 { close(fd) } }

    func append(_ bytes: UnsafeRawBufferPointer) {
        pending.append(contentsOf: bytes)
        size += bytes.count
        if pending.count >= ExhibitCaptureWriter.chunkSize { flushPending() }
    }

    private func flushPending() {
        guard fd >= 0, failure == nil, !pending.isEmpty else { return }
        let start = size - pending.count
        var done = 0
        while done < pending.count {
            let n = pending.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, $0.count - done, off_t(start + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { failure = "cannot write the spool file: \(String(cString: strerror(errno)))"; return }
            done += n
        }
        pending.removeAll(keepingCapacity: true)
    }

    func read(offset: Int, count: Int, into out: inout Data) throws {
        flushPending()
        if let failure { throw SpoolError(description: failure) }
        var chunk = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SpoolError(description: "cannot read the spool file back") }
            done += n
        }
        out.append(contentsOf: chunk)
    }
}

private extension Data {
    mutating func le16(_ v: UInt16) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func le32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func le64(_ v: UInt64) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
