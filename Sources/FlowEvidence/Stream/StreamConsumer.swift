// What a reassembled byte stream is delivered to (the classifier's stream dispatcher, or a test).

/// Receives one direction of a TCP stream, in order. `bytes` is valid only during the call: it is
/// either the packet's own payload (the common, in-order case: no copy) or the reassembler's buffer.
public protocol StreamConsumer {
    mutating func deliver(_ bytes: UnsafeRawBufferPointer)
    /// `byteCount` bytes of the stream were never seen (capture loss, or given up on).
    mutating func gap(_ byteCount: Int)
    /// False once the consumer has decided it needs no more bytes: the reassembler then only tracks
    /// sequence numbers and buffers nothing.
    var wantsBytes: Bool { get }
}
