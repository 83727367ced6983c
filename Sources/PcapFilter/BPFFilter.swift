// BPF filter expressions (pcap-filter(7)) compiled by libpcap and run on records with
// pcap_offline_filter(3PCAP): the same semantics as `tcpdump -r FILE EXPR`.
import CPcap
import CaptureFile
import WireBytes

public struct BPFFilterError: Error, CustomStringConvertible, Sendable {
    public var expression: String
    public var linkType: LinkType
    public var message: String
    public var description: String { "bad filter expression '\(expression)' for link type \(linkType): \(message)" }
}

/// One compiled program for one link type.
public final class BPFFilter {
    public let expression: String
    public let linkType: LinkType
    private var program = bpf_program()

    /// libpcap's MAXIMUM_SNAPLEN: the snap length the program assumes when the file gives none.
    public static let defaultSnaplen = 262_144

    public init(expression: String, linkType: LinkType, snaplen: Int = BPFFilter.defaultSnaplen) throws(BPFFilterError) {
        self.expression = expression
        self.linkType = linkType
        // LINKTYPE_RAW (101) is DLT_RAW (12) inside libpcap; other numbers we read are equal.
        let dlt: Int32 = linkType.rawValue == 101 ? 12 : Int32(truncatingIfNeeded: linkType.rawValue)
        let snap = Int32(clamping: snaplen > 0 ? snaplen : Self.defaultSnaplen)
        guard let p = pcap_open_dead(dlt, snap) else {
            throw BPFFilterError(expression: expression, linkType: linkType, message: "pcap_open_dead failed")
        }
        defer { pcap_close(p) }
        if pcap_compile(p, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
            throw BPFFilterError(expression: expression, linkType: linkType, message: String(cString: pcap_geterr(p)))
        }
    }

    deinit { pcap_freecode(&program) }

    /// True when the program accepts the packet bytes (caplen = data.count, len = originalLength).
    public func matches(data: UnsafeRawBufferPointer, originalLength: Int) -> Bool {
        var hdr = pcap_pkthdr()
        hdr.caplen = UInt32(clamping: data.count)
        hdr.len = UInt32(clamping: originalLength)
        guard let base = data.baseAddress else {
            var empty: UInt8 = 0
            return pcap_offline_filter(&program, &hdr, &empty) != 0
        }
        return pcap_offline_filter(&program, &hdr, base.assumingMemoryBound(to: UInt8.self)) != 0
    }

    public func matches(_ record: CaptureRecord) -> Bool {
        matches(data: record.data, originalLength: record.originalLength)
    }
}

/// One expression over a file with several link types: compiled once per link type, on first use.
public final class BPFFilterSet {
    public let expression: String
    private var compiled: [LinkType: BPFFilter?] = [:]
    private var last: (LinkType, BPFFilter?)?
    /// Records of link types the expression cannot be compiled for (they never match).
    public private(set) var uncompilableRecords = 0

    /// Checks the expression once against Ethernet so that a typo fails before any reading.
    public init(expression: String) throws(BPFFilterError) {
        self.expression = expression
        let eth = try BPFFilter(expression: expression, linkType: .ethernet)
        compiled[.ethernet] = eth
    }

    public func matches(_ record: CaptureRecord) -> Bool {
        let f: BPFFilter?
        if let (lt, cached) = last, lt == record.linkType {
            f = cached
        } else {
            if let c = compiled[record.linkType] { f = c } else {
                f = try? BPFFilter(expression: expression, linkType: record.linkType)
                compiled[record.linkType] = .some(f)
            }
            last = (record.linkType, f)
        }
        guard let f else { uncompilableRecords += 1; return false }
        return f.matches(record)
    }
}
