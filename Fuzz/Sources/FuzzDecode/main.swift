// libFuzzer target for PacketDecode (see FuzzEntryPoints/DecodeFuzzInput.swift for the input layout).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecode(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    decodeFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
