// libFuzzer target for TCPStreamClassifier and ExtensionMessages (see FuzzEntryPoints/PeerWireFuzzInput.swift for the input layout and invariants).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPeerWire(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    peerWireFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
