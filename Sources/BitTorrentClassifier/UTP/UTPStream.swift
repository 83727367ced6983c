// uTP byte stream reassembly, one direction: BEP 29 (https://www.bittorrent.org/beps/bep_0029.html).
//
// "seq_nr: the sequence number of this packet. As opposed to TCP, uTP sequence numbers are not
// referring to bytes, but packets." ST_DATA payloads are delivered in seq_nr order (16-bit,
// wrapping) to a PeerWireStream, so handshakes inside uTP yield infohashes. Packets that arrive
// early wait in a bounded buffer; duplicates and retransmissions of delivered packets are dropped.
// When the buffer is full the missing packet is given up and the peer wire stream loses sync.
import WireBytes

public struct UTPStream {
    /// Packets held while an earlier one is missing (libtorrent's default send window is well under this).
    public static let maxOutOfOrderPackets = 32
    /// Bytes held while an earlier packet is missing.
    public static let maxOutOfOrderBytes = 64 * 1024
    /// Packets further ahead than this are not part of this stream's window.
    public static let maxSequenceLead: UInt16 = 1024

    /// The seq_nr of the next DATA packet to deliver, once known.
    public private(set) var expected: UInt16?
    public var wire = PeerWireStream()
    private var held: [(seq: UInt16, bytes: [UInt8])] = []
    private var heldBytes = 0
    public private(set) var droppedDuplicates = 0

    public init() {}

    /// Sets the first expected seq_nr (SYN seq + 1 for the initiator; a STATE's seq_nr is the
    /// seq_nr of the sender's next DATA packet). Ignored once data flowed.
    public mutating func expect(_ seq: UInt16) {
        if expected == nil { expected = seq }
    }

    /// One ST_DATA packet's payload.
    public mutating func receiveData<S: ClassifierSink>(seq: UInt16, payload: UnsafeRawBufferPointer, sink: inout S) {
        if expected == nil { expected = seq }
        guard let exp = expected else { return }
        let lead = seq &- exp
        if lead == 0 {
            wire.consume(payload, sink: &sink)
            expected = seq &+ 1
            drainHeld(sink: &sink)
        } else if lead < Self.maxSequenceLead {
            hold(seq: seq, payload: payload, sink: &sink)
        } else {
            droppedDuplicates += 1  // behind the window: already delivered (or hopelessly old)
        }
    }

    private mutating func hold<S: ClassifierSink>(seq: UInt16, payload: UnsafeRawBufferPointer, sink: inout S) {
        if held.contains(where: { $0.seq == seq }) { droppedDuplicates += 1; return }
        if held.count >= Self.maxOutOfOrderPackets || heldBytes + payload.count > Self.maxOutOfOrderBytes {
            // Give up the missing packet(s): jump to the oldest held one.
            sink.receive(.malformed(.utpReorderOverflow))
            wire.loseSync()
            if let exp = expected, let oldest = held.min(by: { ($0.seq &- exp) < ($1.seq &- exp) }) {
                expected = oldest.seq
            }
            drainHeld(sink: &sink)
            guard let exp = expected else { return }
            let lead = seq &- exp
            if lead >= Self.maxSequenceLead { return }  // now behind: already delivered
            if lead == 0 {
                wire.consume(payload, sink: &sink)
                expected = seq &+ 1
                drainHeld(sink: &sink)
                return
            }
        }
        held.append((seq, Array(payload)))
        heldBytes += payload.count
    }

    private mutating func drainHeld<S: ClassifierSink>(sink: inout S) {
        while let exp = expected, let i = held.firstIndex(where: { $0.seq == exp }) {
            let p = held.remove(at: i)
            heldBytes -= p.bytes.count
            p.bytes.withUnsafeBytes { _ = wire.consume($0, sink: &sink) }
            expected = exp &+ 1
        }
        // Anything now behind `expected` is a duplicate.
        if let exp = expected {
            held.removeAll { p in
                let stale = p.seq &- exp >= Self.maxSequenceLead
                if stale { heldBytes -= p.bytes.count }
                return stale
            }
        }
    }
}
