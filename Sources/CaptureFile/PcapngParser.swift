// pcapng reader.
// Spec: draft-ietf-opsawg-pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html).
// Blocks: type u32, total length u32, body, total length u32 again; each section (SHB) declares its
// byte order. Packets come from EPB (§4.3), SPB (§4.4, interface 0, no timestamp) and the obsolete
// Packet Block (Appendix A); IDBs (§4.2) give link type, snap length, if_tsresol and if_tsoffset.
// NRB, ISB, DSB, custom and unknown blocks are skipped. Damaged framing: resynchronise on the next
// block with a known type whose trailing length matches.
import WireBytes

struct PcapngParser: RecordParser {
    static let shbType: UInt32 = 0x0A0D_0D0A
    static let minBlockLength = 12
    /// Block types used to recognise a block when resynchronising (§10.1 registry).
    static let knownTypes: Set<UInt32> = [1, 2, 3, 4, 5, 6, 9, 10, 0xBAD, 0x4000_0BAD, shbType]

    /// Timestamp conversion of one interface: units per second and how a fraction becomes ns.
    struct Clock {
        var unitsPerSecond: UInt64 = 1_000_000
        var binaryShift = -1          // >= 0 for 2^-n resolutions
        var offsetSeconds: Int64 = 0
        /// Nanoseconds per unit when a timestamp converts by one multiplication: microseconds or
        /// nanoseconds (the resolutions capture tools write) with no if_tsoffset; else 0.
        private var nanosecondsPerUnit: Int64 = 1_000
        /// The largest count of units whose nanoseconds fit in an Int64 (with `nanosecondsPerUnit`).
        private var largestExact: UInt64 = UInt64(Int64.max / 1_000)

        init() {}
        init(_ r: TimestampResolution, offset: Int64) {
            offsetSeconds = offset
            switch r {
            case .decimal(let n): var u: UInt64 = 1; for _ in 0..<n { u &*= 10 }; unitsPerSecond = u
            case .binary(let n): unitsPerSecond = 1 << UInt64(n); binaryShift = n
            }
            let perUnit: Int64 = r == .microseconds ? 1_000 : r == .nanoseconds ? 1 : 0
            nanosecondsPerUnit = offset == 0 ? perUnit : 0
            largestExact = nanosecondsPerUnit == 0 ? 0 : UInt64(Int64.max / nanosecondsPerUnit)
        }

        /// Nanoseconds since the epoch, nil on overflow (beyond year 2262).
        @inline(__always) func nanoseconds(_ t: UInt64) -> Int64? {
            // Seconds * 10^9 + the fraction's nanoseconds is t * nanosecondsPerUnit exactly, and it
            // overflows exactly when that product does (issue 6: the split below, with its checked
            // sums, cost 40 instructions a packet).
            if t <= largestExact, nanosecondsPerUnit != 0 { return Int64(t) &* nanosecondsPerUnit }
            return splitNanoseconds(t)
        }

        /// `nanoseconds` for any resolution and offset.
        func splitNanoseconds(_ t: UInt64) -> Int64? {
            let sec: UInt64, fracNs: UInt64
            // Microseconds (the default if_tsresol) and nanoseconds: divisions by a constant, which
            // compile to a multiplication (a division by a variable costs tens of cycles per packet).
            if unitsPerSecond == 1_000_000 && binaryShift < 0 {
                sec = t / 1_000_000
                fracNs = (t &- sec &* 1_000_000) &* 1_000
            } else if unitsPerSecond == 1_000_000_000 && binaryShift < 0 {
                sec = t / 1_000_000_000
                fracNs = t &- sec &* 1_000_000_000
            } else {
                (sec, fracNs) = slowSplit(t)
            }
            guard sec <= UInt64(Int.max), let s = Int(sec) +? Int(offsetSeconds),
                  let ns = s *? 1_000_000_000, let total = ns +? Int(fracNs) else { return nil }
            return Int64(total)
        }

        /// Seconds and nanoseconds for any other resolution.
        private func slowSplit(_ t: UInt64) -> (UInt64, UInt64) {
            let (sec, frac) = t.quotientAndRemainder(dividingBy: unitsPerSecond)
            let fracNs: UInt64
            if binaryShift >= 0 {
                let p = frac.multipliedFullWidth(by: 1_000_000_000)
                // (frac * 10^9) >> n on the 128-bit product; n == 0 means whole seconds (frac is 0).
                fracNs = binaryShift == 0 ? 0 : (p.low >> UInt64(binaryShift)) | (p.high << UInt64(64 - binaryShift))
            } else if unitsPerSecond <= 1_000_000_000 {
                fracNs = frac &* (1_000_000_000 / unitsPerSecond)
            } else {
                fracNs = frac / (unitsPerSecond / 1_000_000_000)
            }
            return (sec, fracNs)
        }
    }

    var sawSection = false
    var bigEndian = false
    var section = -1
    var mixedByteOrder = false
    var firstBigEndian = false
    /// Every interface in file order.
    var interfaces: [CaptureInterface] = []
    /// This section's interfaces by their id in the section: what a packet block needs of its interface.
    var sectionInterfaces: [SectionInterface] = []

    struct SectionInterface {
        /// The interface's index in `interfaces` (file-wide).
        var index: Int
        var linkType: LinkType
        var snapLength: Int
        var clock: Clock
    }
    var resyncing = false
    /// The current packet block's CaptureRecord.lookahead.
    var lookahead = UnsafeRawBufferPointer(start: nil, count: 0)

    mutating func parse(_ buf: UnsafeRawBufferPointer, base: Int, atEOF: Bool, state: inout ReadState,
                        body: (CaptureRecord) -> Bool) -> ParseStep {
        var pos = 0
        // The lookahead (CaptureRecord.lookahead): `aheadPos` is where the next block to look ahead at
        // starts, `aheadCount` how many packet blocks from the current one on were stepped over.
        var aheadPos = 0, aheadCount = 0
        while true {
            if resyncing {
                if let step = state.applyResync(resync(buf, from: pos, atEOF: atEOF), pos: &pos, bufferCount: buf.count) { return step }
                resyncing = false
            }
            let remaining = buf.count - pos
            if remaining == 0 { return ParseStep(consumed: pos, need: 0, stop: false) }
            guard remaining >= Self.minBlockLength else {
                if !atEOF { return ParseStep(consumed: pos, need: Self.minBlockLength, stop: false) }
                state.damage(sawSection ? .truncatedRecord : .truncatedFileHeader, at: base + pos,
                             "\(remaining) of \(Self.minBlockLength) block header bytes")
                return ParseStep(consumed: buf.count, need: 0, stop: false)
            }
            // The 12 bytes of a block's header and an SHB's byte-order magic are present (checked
            // above): read without a check per field.
            let head = buf.baseAddress! + pos
            let isSHB = head.uncheckedU32(at: 0, bigEndian: false) == Self.shbType
            var be = bigEndian
            if isSHB {
                switch head.uncheckedU32(at: 8, bigEndian: false) {
                case 0x1A2B_3C4D: be = false
                case 0x4D3C_2B1A: be = true
                default:
                    state.damage(.badByteOrderMagic, at: base + pos, "section header byte-order magic is wrong; resynchronising")
                    resyncing = true; state.note(.garbageBytes); pos += 1; continue
                }
            } else if !sawSection {
                state.damage(.truncatedFileHeader, at: base + pos, "no section header block; resynchronising")
                resyncing = true; state.note(.garbageBytes); pos += 1; continue
            }
            let type = head.uncheckedU32(at: 0, bigEndian: be)
            let length = Int(head.uncheckedU32(at: 4, bigEndian: be))
            guard length >= Self.minBlockLength, length % 4 == 0, length <= CaptureLimits.maxBlockLength else {
                state.damage(.badBlockLength, at: base + pos, "block type 0x\(String(type, radix: 16)) length \(length); resynchronising")
                resyncing = true; state.note(.garbageBytes); pos += 1; continue
            }
            guard length <= remaining else {
                if !atEOF { return ParseStep(consumed: pos, need: length, stop: false) }
                state.damage(isSHB && !sawSection ? .truncatedFileHeader : .truncatedRecord, at: base + pos,
                             "block type 0x\(String(type, radix: 16)) needs \(length) bytes, \(remaining) present")
                return ParseStep(consumed: buf.count, need: 0, stop: false)
            }
            guard Int(head.uncheckedU32(at: length - 4, bigEndian: be)) == length else {   // length <= remaining
                state.damage(.badBlockLength, at: base + pos, "block type 0x\(String(type, radix: 16)) trailing length differs from \(length); resynchronising")
                resyncing = true; state.note(.garbageBytes); pos += 1; continue
            }
            let blockOffset = base + pos
            let block = UnsafeRawBufferPointer(start: head, count: length)   // length <= remaining
            if type == 6 || type == 2 || type == 3 {
                if aheadPos < pos { aheadPos = pos; aheadCount = 0 }   // (after garbage)
                lookahead = Self.lookahead(buf, be: be, pos: &aheadPos, count: &aheadCount)
            }
            pos += length
            let goOn: Bool
            switch type {
            case 6: goOn = timedPacket(head, length: length, obsolete: false, offset: blockOffset, state: &state, body: body)
            case 2: goOn = timedPacket(head, length: length, obsolete: true, offset: blockOffset, state: &state, body: body)
            case 3: goOn = simplePacket(block, offset: blockOffset, state: &state, body: body)
            case 1: interface(block, offset: blockOffset, state: &state); goOn = true
            case Self.shbType: startSection(block, bigEndian: be, offset: blockOffset, state: &state); goOn = true
            default: goOn = true  // NRB, ISB, DSB, custom, unknown: skipped whole (§3.1)
            }
            if !goOn { return ParseStep(consumed: pos, need: 0, stop: true) }
        }
    }

    /// The packet `CaptureRecord.lookaheadDistance` packet blocks after the current one (the
    /// `count`-th packet block from `pos` on is the current one), if it is whole in this buffer:
    /// steps over at least one block a packet. Blocks are checked only for fitting the buffer (a
    /// hint); a section header ends the lookahead, as the byte order may change there.
    static func lookahead(_ buf: UnsafeRawBufferPointer, be: Bool, pos: inout Int, count: inout Int) -> UnsafeRawBufferPointer {
        var ahead = UnsafeRawBufferPointer(start: nil, count: 0)
        let distance = CaptureRecord.lookaheadDistance
        while count <= distance, pos &+ minBlockLength <= buf.count {
            let h = buf.baseAddress! + pos
            let type = h.uncheckedU32(at: 0, bigEndian: be)
            let length = Int(h.uncheckedU32(at: 4, bigEndian: be))
            guard type != shbType, length >= minBlockLength, length & 3 == 0, length <= buf.count &- pos else { break }
            if type == 6 || type == 2 || type == 3 {
                if count == distance {
                    if type == 3 {
                        if length >= 16 {   // SPB: its original length, cut to the block
                            ahead = UnsafeRawBufferPointer(start: h + 12, count: min(Int(h.uncheckedU32(at: 8, bigEndian: be)), length - 16))
                        }
                    } else if length >= 32 {
                        ahead = UnsafeRawBufferPointer(start: h + 28, count: min(Int(h.uncheckedU32(at: 20, bigEndian: be)), length - 32))
                    }
                }
                count &+= 1
            }
            pos &+= length
        }
        count &-= 1   // the current packet leaves the window
        return ahead
    }

    mutating func startSection(_ block: UnsafeRawBufferPointer, bigEndian be: Bool, offset: Int, state: inout ReadState) {
        // Fixed part: byte-order magic, major, minor, section length (§4.1): block length >= 28.
        if block.count < 28 { state.damage(.badBlockLength, at: offset, "section header block shorter than 28 bytes") }
        if !sawSection { firstBigEndian = be } else if be != firstBigEndian { mixedByteOrder = true }
        sawSection = true
        bigEndian = be
        section += 1
        sectionInterfaces.removeAll(keepingCapacity: true)
    }

    mutating func interface(_ block: UnsafeRawBufferPointer, offset: Int, state: inout ReadState) {
        guard block.count >= 20 else {
            state.damage(.badBlockLength, at: offset, "interface description block shorter than 20 bytes")
            return
        }
        let be = bigEndian
        var iface = CaptureInterface(linkType: LinkType(UInt32(block.u16(at: 8, bigEndian: be)!)),
                                     snapLength: Int(block.u32(at: 12, bigEndian: be)!),
                                     resolution: .microseconds, timestampOffsetSeconds: 0, section: section)
        // Options (§3.5): code u16, length u16, value padded to 4; opt_endofopt (0) ends them.
        var o = 16
        let end = block.count - 4
        while o + 4 <= end {
            let code = block.u16(at: o, bigEndian: be)!
            let len = Int(block.u16(at: o + 2, bigEndian: be)!)
            if code == 0 { break }
            // The value must fit before the trailing length; its padding may be missing at the end.
            guard o + 4 + len <= end, let padded = paddedTo4(len) else { break }
            if code == 9, len >= 1, let v = block.u8(at: o + 4) {            // if_tsresol
                let n = Int(v & 0x7F)
                if v & 0x80 == 0 {
                    if n <= 19 { iface.resolution = .decimal(n) } else { state.note(.badTimestampResolution) }
                } else {
                    if n <= 63 { iface.resolution = .binary(n) } else { state.note(.badTimestampResolution) }
                }
            } else if code == 14, len == 8 {                                  // if_tsoffset
                let v = be ? block.u64be(at: o + 4)! : block.u64le(at: o + 4)!
                iface.timestampOffsetSeconds = Int64(bitPattern: v)
            }
            o += 4 + padded
        }
        sectionInterfaces.append(SectionInterface(index: interfaces.count, linkType: iface.linkType, snapLength: iface.snapLength,
                                                  clock: Clock(iface.resolution, offset: iface.timestampOffsetSeconds)))
        interfaces.append(iface)
    }

    /// EPB (§4.3), nearly every block of a capture, and the obsolete Packet Block (Appendix A), laid out
    /// as the EPB but for a 16-bit interface id (then 16 bits of drop count): read in place, their 32
    /// fixed bytes (type, length, interface, timestamp, lengths, trailing length) without a check per
    /// field. Returns false when the body asked to stop.
    mutating func timedPacket(_ head: UnsafeRawPointer, length: Int, obsolete: Bool, offset: Int, state: inout ReadState,
                              body: (CaptureRecord) -> Bool) -> Bool {
        guard length >= 32 else {
            state.damage(.badBlockLength, at: offset, "packet block shorter than 32 bytes"); return true
        }
        let be = bigEndian
        let localID = obsolete ? Int(head.uncheckedU16(at: 8, bigEndian: be)) : Int(head.uncheckedU32(at: 8, bigEndian: be))
        let tsUnits = UInt64(head.uncheckedU32(at: 12, bigEndian: be)) << 32 | UInt64(head.uncheckedU32(at: 16, bigEndian: be))
        let caplen = Int(head.uncheckedU32(at: 20, bigEndian: be))
        let origlen = Int(head.uncheckedU32(at: 24, bigEndian: be))
        guard caplen <= length - 32 else {
            state.damage(.badBlockLength, at: offset, "captured length \(caplen) exceeds block data \(length - 32)")
            return true
        }
        return emit(localID: localID, timestamp: tsUnits, captured: caplen, original: origlen, data: head + 28,
                    offset: offset, state: &state, body: body)
    }

    /// SPB (§4.4): interface 0, no timestamp. Returns false when the body asked to stop.
    mutating func simplePacket(_ block: UnsafeRawBufferPointer, offset: Int, state: inout ReadState,
                               body: (CaptureRecord) -> Bool) -> Bool {
        guard block.count >= 16 else {
            state.damage(.badBlockLength, at: offset, "simple packet block shorter than 16 bytes"); return true
        }
        let origlen = Int(block.u32(at: 8, bigEndian: bigEndian)!)
        // The snap length of interface 0 applies in `emit`.
        return emit(localID: 0, timestamp: nil, captured: min(origlen, block.count - 16), original: origlen,
                    data: block.baseAddress! + 12, offset: offset, state: &state, body: body)
    }

    /// Delivers a packet block's record on its interface. `timestamp`: units of the interface's
    /// resolution, nil for an SPB, which has none and whose captured bytes are cut to the snap length.
    @inline(__always)
    mutating func emit(localID: Int, timestamp tsUnits: UInt64?, captured caplen: Int, original origlen: Int,
                       data: UnsafeRawPointer, offset: Int, state: inout ReadState, body: (CaptureRecord) -> Bool) -> Bool {
        guard localID < sectionInterfaces.count else {
            if sectionInterfaces.isEmpty {
                state.note(.packetBeforeInterface)
            } else {
                state.note(.unknownInterface)
            }
            return true
        }
        let snapLength = sectionInterfaces[localID].snapLength
        var captured = caplen
        var ts = Timestamp(nanoseconds: 0)
        if let tsUnits {
            if snapLength > 0 && captured > snapLength { state.note(.caplenExceedsSnaplen) }
            if captured > origlen { state.note(.caplenExceedsOriglen) }
            if let ns = sectionInterfaces[localID].clock.nanoseconds(tsUnits) { ts.nanoseconds = ns } else {
                state.note(.timestampOverflow); ts.nanoseconds = Int64.max
            }
        } else if snapLength > 0 && captured > snapLength {
            captured = snapLength
        }
        let record = CaptureRecord(frameNumber: state.nextFrame, timestamp: ts, hasTimestamp: tsUnits != nil,
                                   linkType: sectionInterfaces[localID].linkType, interfaceID: sectionInterfaces[localID].index,
                                   capturedLength: captured, originalLength: origlen, fileOffset: offset,
                                   data: UnsafeRawBufferPointer(start: data, count: captured), lookahead: lookahead)
        return state.deliver(record, body)
    }


    /// Scans for a block with a known type, a sane length and a matching trailing length.
    func resync(_ buf: UnsafeRawBufferPointer, from start: Int, atEOF: Bool) -> ResyncOutcome {
        var q = start
        while q + 8 <= buf.count {
            var be = bigEndian
            if buf.u32le(at: q) == Self.shbType {
                switch buf.u32le(at: q + 8) {
                case 0x1A2B_3C4D: be = false
                case 0x4D3C_2B1A: be = true
                default: q += 1; continue
                }
            }
            let type = buf.u32(at: q, bigEndian: be)!
            let length = Int(buf.u32(at: q + 4, bigEndian: be)!)
            if (sawSection || type == Self.shbType), Self.knownTypes.contains(type),
               length >= Self.minBlockLength, length % 4 == 0, length <= CaptureLimits.maxBlockLength {
                if q + length <= buf.count {
                    if Int(buf.u32(at: q + length - 4, bigEndian: be)!) == length { return .found(q) }
                } else if !atEOF {
                    return .needMore(q, length)
                }
            }
            q += 1
        }
        if atEOF { return .exhausted }
        return .needMore(max(start, buf.count - 7), 12)
    }
}
