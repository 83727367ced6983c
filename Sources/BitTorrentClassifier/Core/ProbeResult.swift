// The three outcomes of a stream or datagram probe (STYLE-ANCHORS rule 4).

public enum ProbeResult: Sendable, Equatable {
    /// The bytes are this protocol; events were emitted.
    case match
    /// The bytes so far are a valid prefix; call again with more.
    case needMore
    /// The bytes are not this protocol.
    case noMatch
}
