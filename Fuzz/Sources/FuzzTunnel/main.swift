// libFuzzer target for TunnelDetector, MSEShapeDetector and SOCKS5UDPHeader (see FuzzEntryPoints/TunnelFuzzInput.swift for the input layout and invariants).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTunnel(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    tunnelFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
