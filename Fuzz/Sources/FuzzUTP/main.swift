// libFuzzer target for UDPFlowClassifier (uTP, UDP tracker, LSD, DHT) (see FuzzEntryPoints/UDPFlowFuzzInput.swift for the input layout and invariants).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUTP(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    udpFlowFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
