// libFuzzer target for BencodeScanner (see FuzzEntryPoints/BencodeFuzzInput.swift for the input layout and invariants).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBencode(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    bencodeFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
