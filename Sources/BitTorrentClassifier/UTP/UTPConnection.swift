// Tells a uTP connection from random UDP by its connection ids: BEP 29
// (https://www.bittorrent.org/beps/bep_0029.html).
//
// "conn_id_recv = rand(); conn_id_send = conn_id_recv + 1; [...] sends ST_SYN with
// connection_id = conn_id_recv" and the other side "conn_id_send = packet.connection_id;
// conn_id_recv = packet.connection_id + 1". So after the SYN the initiator sends with id X+1 and
// the responder with id X, and the responder's ST_STATE acknowledges the SYN's seq_nr.
// One valid-looking header proves nothing (about 1 random datagram in 3000 passes UTPHeader.parse);
// a connection is confirmed only by ids that agree across packets and directions.
import WireBytes

public struct UTPConnection {
    public enum Status: Equatable, Sendable { case probing, confirmed, rejected }

    /// Packets with ids that fit no connection before the flow is declared not uTP.
    public static let maxMismatches = 2
    /// Without a SYN: consistent packets (both directions) needed to confirm.
    public static let packetsToConfirmWithoutSYN = 4

    public private(set) var status: Status = .probing
    private var sendID: (initiator: UInt16?, responder: UInt16?) = (nil, nil)
    private var syn: (id: UInt16, seq: UInt16, fromInitiator: Bool)?
    private var synHeader: UTPHeader?
    private var consistent = 0
    private var mismatches = 0
    public var initiatorStream = UTPStream()
    public var responderStream = UTPStream()

    public init() {}

    /// One datagram whose header already parsed. Emits events only once confirmed.
    public mutating func receive<S: ClassifierSink>(_ h: UTPHeader, datagram: UnsafeRawBufferPointer, fromInitiator: Bool, sink: inout S) {
        if h.type == .syn {
            if status == .confirmed, let s = syn, s.id == h.connectionID, s.fromInitiator == fromInitiator { return }  // retransmit
            if status == .confirmed { self = UTPConnection() }  // a new connection on the same 5-tuple
            syn = (h.connectionID, h.sequenceNumber, fromInitiator)
            synHeader = h
            setSendID(h.connectionID &+ 1, fromInitiator: fromInitiator)
            setSendID(h.connectionID, fromInitiator: !fromInitiator)
            consistent = 1
            return
        }
        let known = fromInitiator ? sendID.initiator : sendID.responder
        if let id = known, id != h.connectionID {
            if status == .probing {
                mismatches += 1
                if mismatches > Self.maxMismatches { status = .rejected }
            }
            return
        }
        if known == nil { setSendID(h.connectionID, fromInitiator: fromInitiator) }
        if status == .probing {
            consistent += 1
            if confirms(h, fromInitiator: fromInitiator) {
                status = .confirmed
                if let s = syn { expect(s.seq &+ 1, fromInitiator: s.fromInitiator) }
                if let sh = synHeader { sink.receive(.utpPacket(sh)) }  // held until the flow proved itself
            } else { return }
        }
        guard status == .confirmed else { return }
        sink.receive(.utpPacket(h))
        switch h.type {
        case .state: expect(h.sequenceNumber, fromInitiator: fromInitiator)
        case .data:
            let payload = datagram.slice(h.payloadOffset, datagram.count - h.payloadOffset)
            if fromInitiator { initiatorStream.receiveData(seq: h.sequenceNumber, payload: payload, sink: &sink) }
            else { responderStream.receiveData(seq: h.sequenceNumber, payload: payload, sink: &sink) }
        default: break
        }
    }

    private func confirms(_ h: UTPHeader, fromInitiator: Bool) -> Bool {
        guard let a = sendID.initiator, let b = sendID.responder else {
            // Only the SYN side seen: its first DATA must continue the SYN's ids and seq_nr.
            if let s = syn, s.fromInitiator == fromInitiator, h.type == .data, h.sequenceNumber == s.seq &+ 1 { return true }
            return false
        }
        guard a &- b == 1 || b &- a == 1 else { return false }
        if let s = syn {
            // The other side answers the SYN (ack_nr = SYN's seq_nr), or the SYN side continues.
            if s.fromInitiator != fromInitiator { return h.ackNumber == s.seq }
            return h.sequenceNumber == s.seq &+ 1
        }
        return consistent >= Self.packetsToConfirmWithoutSYN
    }

    private mutating func setSendID(_ id: UInt16, fromInitiator: Bool) {
        if fromInitiator { sendID.initiator = id } else { sendID.responder = id }
    }

    private mutating func expect(_ seq: UInt16, fromInitiator: Bool) {
        if fromInitiator { initiatorStream.expect(seq) } else { responderStream.expect(seq) }
    }
}
