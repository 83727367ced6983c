// libFuzzer target for HTTPTrackerDetector (see FuzzEntryPoints/HTTPTrackerFuzzInput.swift for the input layout and invariants).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPTracker(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    httpTrackerFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
