// IP fragment reassembly for IPv4 (RFC 791 section 3.2, "fragmentation and reassembly") and IPv6
// (RFC 8200 section 4.5), with a simple sorted-ranges buffer in place of RFC 815's hole list.
//
// Datagrams are keyed by (source, destination, identification, protocol) for IPv4 and
// (source, destination, identification) for IPv6. Memory is bounded: at most
// `maxConcurrentDatagrams` buffers of `maxDatagramSize` bytes; the oldest is evicted when full and any
// datagram older than `fragmentTimeout` (capture time) is dropped.
//
// Overlaps are resolved deterministically: the bytes that arrived first win, later bytes only fill
// holes, and the overlap is counted. (RFC 5722 tells IPv6 hosts to drop such datagrams; hosts differ
// on IPv4. A forensic reader keeps what was first on the wire and flags it.)
import WireBytes

final class FragmentReassembler {
    struct Key: Equatable {
        var src: IPAddress
        var dst: IPAddress
        var identification: UInt32
        var proto: UInt8
        var isV6: Bool
    }

    struct Datagram {
        var key: Key
        var storage: UnsafeMutableRawBufferPointer
        /// Received byte ranges, sorted, disjoint and non-adjacent.
        var ranges: [Range<Int>]
        /// Known once the last fragment (MF/M = 0) arrived.
        var totalLength: Int?
        var firstSeen: Int64
        var fragments: Int
        /// Upper-layer header number from the offset-0 fragment (IPv4: the protocol).
        var nextHeader: UInt8?
    }

    enum Outcome {
        case pending
        case dropped
        /// The whole datagram's payload (valid until the next `add`) and its first header number.
        case complete(UnsafeRawBufferPointer, nextHeader: UInt8)
    }

    let limits: DecoderLimits
    private(set) var pending: [Datagram] = []
    /// The last completed datagram; handed out until the next delivery.
    private var delivered: UnsafeMutableRawBufferPointer?

    init(limits: DecoderLimits) {
        self.limits = limits
    }

    deinit {
        for d in pending { d.storage.deallocate() }
        delivered?.deallocate()
    }

    func add(_ key: Key, offset: Int, more: Bool, bytes: UnsafeRawBufferPointer, nextHeader: UInt8?, now: Int64,
             anomalies: inout DecodeAnomalies) -> Outcome {
        expire(now: now, anomalies: &anomalies)
        guard let end = offset +? bytes.count, end <= limits.maxDatagramSize else {
            anomalies.record(.fragmentTooLarge)
            return .dropped
        }
        let i: Int
        if let found = pending.firstIndex(where: { $0.key == key }) {
            i = found
        } else {
            if pending.count >= limits.maxConcurrentDatagrams, !pending.isEmpty {
                anomalies.record(.fragmentEvicted)
                pending.removeFirst().storage.deallocate()     // oldest first: entries are appended in arrival order
            }
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: limits.maxDatagramSize, alignment: 8)
            pending.append(Datagram(key: key, storage: storage, ranges: [], totalLength: nil, firstSeen: now, fragments: 0, nextHeader: nil))
            i = pending.count - 1
        }
        // Length consistency: the last fragment fixes the total; nothing may lie beyond it.
        if let total = pending[i].totalLength, end > total || (!more && end != total) {
            anomalies.record(.fragmentInconsistentLength)
            return .pending
        }
        if !more, let last = pending[i].ranges.last, last.upperBound > end {
            anomalies.record(.fragmentInconsistentLength)
            return .pending
        }
        pending[i].fragments += 1
        guard pending[i].fragments <= limits.maxFragmentsPerDatagram else {
            anomalies.record(.fragmentEvicted)
            pending.remove(at: i).storage.deallocate()
            return .dropped
        }
        if !more { pending[i].totalLength = end }
        if offset == 0, let nh = nextHeader, pending[i].nextHeader == nil { pending[i].nextHeader = nh }
        if store(bytes, at: offset, into: &pending[i]) { anomalies.record(.fragmentOverlap) }

        guard let total = pending[i].totalLength, let nh = pending[i].nextHeader,
              total == 0 || pending[i].ranges == [0..<total] else { return .pending }
        let done = pending.remove(at: i)
        delivered?.deallocate()
        delivered = done.storage
        return .complete(UnsafeRawBufferPointer(done.storage).slice(0, total), nextHeader: nh)
    }

    /// Copies the parts of `bytes` not received yet (first arrival wins); returns true on overlap.
    private func store(_ bytes: UnsafeRawBufferPointer, at offset: Int, into d: inout Datagram) -> Bool {
        let new = offset..<(offset + bytes.count)
        guard !new.isEmpty else { return false }
        var overlap = false, cursor = new.lowerBound
        func copy(_ r: Range<Int>) {
            guard !r.isEmpty, let src = bytes.baseAddress else { return }
            (d.storage.baseAddress! + r.lowerBound).copyMemory(from: src + (r.lowerBound - offset), byteCount: r.count)
        }
        for r in d.ranges where r.overlaps(new) {
            overlap = true
            if cursor < r.lowerBound { copy(cursor..<r.lowerBound) }
            cursor = max(cursor, r.upperBound)
        }
        if cursor < new.upperBound { copy(cursor..<new.upperBound) }
        // Merge the new range in, keeping the list sorted and coalesced.
        var merged: [Range<Int>] = []
        merged.reserveCapacity(d.ranges.count + 1)
        var pendingRange = new
        var inserted = false
        for r in d.ranges {
            if r.upperBound < pendingRange.lowerBound {
                merged.append(r)
            } else if pendingRange.upperBound < r.lowerBound {
                if !inserted { merged.append(pendingRange); inserted = true }
                merged.append(r)
            } else {
                pendingRange = min(r.lowerBound, pendingRange.lowerBound)..<max(r.upperBound, pendingRange.upperBound)
            }
        }
        if !inserted { merged.append(pendingRange) }
        d.ranges = merged
        return overlap
    }

    /// Drops datagrams older than the timeout (capture time).
    private func expire(now: Int64, anomalies: inout DecodeAnomalies) {
        guard !pending.isEmpty else { return }
        pending.removeAll { d in
            let (age, overflow) = now.subtractingReportingOverflow(d.firstSeen)
            guard overflow || age > limits.fragmentTimeout else { return false }
            anomalies.record(.fragmentTimedOut)
            d.storage.deallocate()
            return true
        }
    }
}
