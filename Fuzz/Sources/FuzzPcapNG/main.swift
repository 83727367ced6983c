// libFuzzer target for CaptureFile's reader + PacketDecode: the input is a whole capture file
// (see FuzzEntryPoints/ReadCaptureFuzzInput.swift). FuzzPcapNG differs from its sibling only in its seed corpus.
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCapture(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    readCaptureFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
