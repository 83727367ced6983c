// Classic pcap ("libpcap savefile") reader.
// Spec: draft-ietf-opsawg-pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html) and
// pcap-savefile(5). File header 24 bytes, then records: 16-byte header (ts_sec, ts_frac, incl_len,
// orig_len) + incl_len bytes. Byte order and µs/ns from the magic. Behaviour on odd records follows
// libpcap 1.10 (sf-pcap.c), our test oracle: incl_len above the snap length is cut to it.
import WireBytes

struct PcapParser: RecordParser {
    static let fileHeaderLength = 24
    static let recordHeaderLength = 16

    var headerDone = false
    var bigEndian = false
    var nanoseconds = false
    var snapLength = 0
    /// libpcap's adjusted snapshot: 0 or too large means the maximum.
    var effectiveSnap = CaptureLimits.maxPcapCapturedLength
    var linkType = LinkType.ethernet
    var previousSeconds: Int64?
    /// Files of version 2.0-2.2 have incl_len and orig_len swapped; 2.3 files may (libpcap's
    /// sf-pcap.c "lengths_swapped", after a bug in old tcpdump versions).
    var lengthsSwapped = LengthsSwapped.no
    enum LengthsSwapped { case no, yes, maybe }
    var resyncing = false

    /// Reads the 24-byte file header; nil when short or not a pcap magic.
    mutating func readFileHeader(_ b: UnsafeRawBufferPointer) -> Bool {
        guard let magic = b.u32le(at: 0), b.count >= Self.fileHeaderLength else { return false }
        switch magic {
        case 0xA1B2_C3D4: bigEndian = false; nanoseconds = false
        case 0xD4C3_B2A1: bigEndian = true; nanoseconds = false
        case 0xA1B2_3C4D: bigEndian = false; nanoseconds = true
        case 0x4D3C_B2A1: bigEndian = true; nanoseconds = true
        default: return false
        }
        let major = b.u16(at: 4, bigEndian: bigEndian) ?? 2, minor = b.u16(at: 6, bigEndian: bigEndian) ?? 4
        lengthsSwapped = major != 2 ? .no : minor < 3 ? .yes : minor == 3 ? .maybe : .no
        let snap = Int(b.u32(at: 16, bigEndian: bigEndian) ?? 0)
        // The link-type field's upper bits carry FCS information (LT_LINKTYPE in libpcap).
        linkType = LinkType((b.u32(at: 20, bigEndian: bigEndian) ?? 0) & 0xFFFF)
        snapLength = snap
        effectiveSnap = (snap == 0 || snap > CaptureLimits.maxPcapCapturedLength) ? CaptureLimits.maxPcapCapturedLength : snap
        headerDone = true
        return true
    }

    var resolution: TimestampResolution { nanoseconds ? .nanoseconds : .microseconds }

    mutating func parse(_ buf: UnsafeRawBufferPointer, base: Int, atEOF: Bool, state: inout ReadState,
                        body: (CaptureRecord) -> Bool) -> ParseStep {
        var pos = 0
        if !headerDone {
            if !readFileHeader(buf) {
                if buf.count < Self.fileHeaderLength && !atEOF { return ParseStep(consumed: 0, need: Self.fileHeaderLength, stop: false) }
                state.damage(.truncatedFileHeader, at: base, "\(buf.count) of \(Self.fileHeaderLength) header bytes")
                return ParseStep(consumed: buf.count, need: 0, stop: false)
            }
            pos = Self.fileHeaderLength
        }
        let fracLimit: UInt32 = nanoseconds ? 1_000_000_000 : 1_000_000
        let fracScale: Int64 = nanoseconds ? 1 : 1000
        // The lookahead (CaptureRecord.lookahead): `aheadPos` is where the next record to look ahead
        // at starts, `aheadCount` how many records from the current one on were stepped over.
        var aheadPos = pos, aheadCount = 0
        let distance = CaptureRecord.lookaheadDistance
        while true {
            if resyncing {
                let outcome = resync(buf, from: pos, atEOF: atEOF, state: &state)
                if let step = state.applyResync(outcome, pos: &pos, bufferCount: buf.count) { return step }
                resyncing = false
            }
            let remaining = buf.count - pos
            if remaining == 0 { return ParseStep(consumed: pos, need: 0, stop: false) }
            guard remaining >= Self.recordHeaderLength else {
                if !atEOF { return ParseStep(consumed: pos, need: Self.recordHeaderLength, stop: false) }
                state.damage(.truncatedRecord, at: base + pos, "\(remaining) of \(Self.recordHeaderLength) record header bytes")
                return ParseStep(consumed: buf.count, need: 0, stop: false)
            }
            // The 16 header bytes are present (checked above): read without a check per field.
            let header = buf.baseAddress! + pos
            let be = bigEndian
            let secs = header.uncheckedU32(at: 0, bigEndian: be), frac = header.uncheckedU32(at: 4, bigEndian: be)
            var incl = Int(header.uncheckedU32(at: 8, bigEndian: be)), orig = Int(header.uncheckedU32(at: 12, bigEndian: be))
            if lengthsSwapped == .yes || (lengthsSwapped == .maybe && incl > orig) { swap(&incl, &orig) }
            if incl > CaptureLimits.maxPcapCapturedLength {
                state.damage(.badRecordLength, at: base + pos, "captured length \(incl) above \(CaptureLimits.maxPcapCapturedLength); resynchronising")
                resyncing = true
                state.note(.garbageBytes)
                pos += 1
                continue
            }
            let end = pos &+ Self.recordHeaderLength &+ incl   // incl is at most maxPcapCapturedLength
            if end > buf.count {
                if !atEOF { return ParseStep(consumed: pos, need: Self.recordHeaderLength + incl, stop: false) }
                state.damage(.truncatedRecord, at: base + pos, "record needs \(Self.recordHeaderLength + incl) bytes, \(remaining) present")
                return ParseStep(consumed: buf.count, need: 0, stop: false)
            }
            var captured = incl
            if incl > effectiveSnap { state.note(.caplenExceedsSnaplen); captured = effectiveSnap }
            if incl > orig { state.note(.caplenExceedsOriglen) }
            if frac >= fracLimit { state.note(.timestampFractionOutOfRange) }
            let seconds = Int64(secs)
            previousSeconds = seconds
            let ts = Timestamp(nanoseconds: seconds &* 1_000_000_000 &+ Int64(frac) &* fracScale)
            // The record `distance` records on, if it is whole in this buffer: one more header a record.
            // Unchecked beyond fitting the buffer (a hint; files with swapped lengths get none).
            var ahead = UnsafeRawBufferPointer(start: nil, count: 0)
            if aheadPos < pos { aheadPos = pos; aheadCount = 0 }   // (after garbage)
            while aheadCount <= distance, lengthsSwapped == .no, aheadPos &+ Self.recordHeaderLength <= buf.count {
                let h = buf.baseAddress! + aheadPos
                let n = Int(h.uncheckedU32(at: 8, bigEndian: be))
                let next = aheadPos &+ Self.recordHeaderLength &+ n
                guard n <= CaptureLimits.maxPcapCapturedLength, next <= buf.count else { break }
                if aheadCount == distance { ahead = UnsafeRawBufferPointer(start: h + Self.recordHeaderLength, count: n) }
                aheadPos = next
                aheadCount &+= 1
            }
            aheadCount &-= 1   // the current record leaves the window
            // In bounds: pos + 16 + captured <= end <= buf.count (checked above), so no clamping slice.
            let record = CaptureRecord(frameNumber: state.nextFrame, timestamp: ts, linkType: linkType, interfaceID: 0,
                                       capturedLength: captured, originalLength: orig, fileOffset: base + pos,
                                       data: UnsafeRawBufferPointer(start: header + Self.recordHeaderLength, count: captured),
                                       lookahead: ahead)
            pos = end
            if !state.deliver(record, body) { return ParseStep(consumed: pos, need: 0, stop: true) }
        }
    }


    /// Scans for a record header that is plausible on its own and followed by another plausible
    /// header (or the end of the file). Returns where, or how many bytes it needs to decide.
    func resync(_ buf: UnsafeRawBufferPointer, from start: Int, atEOF: Bool, state: inout ReadState) -> ResyncOutcome {
        var q = start
        while q + Self.recordHeaderLength <= buf.count {
            if let len = plausibleHeader(buf, at: q, after: previousSeconds) {
                let next = q + Self.recordHeaderLength + len
                if next == buf.count && atEOF { return .found(q) }
                if next + Self.recordHeaderLength <= buf.count {
                    let secs = Int64(buf.u32(at: q, bigEndian: bigEndian)!)
                    if plausibleHeader(buf, at: next, after: secs) != nil { return .found(q) }
                } else if atEOF {
                    if next <= buf.count { return .found(q) }  // the tail is then reported as truncated
                } else {
                    return .needMore(q, next + Self.recordHeaderLength - q)
                }
            }
            q += 1
        }
        if atEOF { return .exhausted }
        // Keep the last bytes: a header may start there.
        let keep = max(start, buf.count - (Self.recordHeaderLength - 1))
        return .needMore(keep, Self.recordHeaderLength)
    }

    /// Captured length when the 16 bytes at `q` look like a record header near time `after`.
    func plausibleHeader(_ buf: UnsafeRawBufferPointer, at q: Int, after: Int64?) -> Int? {
        guard let secs = buf.u32(at: q, bigEndian: bigEndian), let frac = buf.u32(at: q + 4, bigEndian: bigEndian),
              let incl = buf.u32(at: q + 8, bigEndian: bigEndian), let orig = buf.u32(at: q + 12, bigEndian: bigEndian)
        else { return nil }
        guard frac < (nanoseconds ? 1_000_000_000 : 1_000_000), Int(incl) <= effectiveSnap, orig >= incl,
              Int(orig) <= CaptureLimits.maxPcapCapturedLength else { return nil }
        if let after, abs(Int64(secs) - after) > CaptureLimits.resyncMaxTimeJumpSeconds { return nil }
        return Int(incl)
    }
}
