// libFuzzer target for DHTDetector (see FuzzEntryPoints/DHTFuzzInput.swift for the input layout and invariants).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDHT(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    dhtFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
