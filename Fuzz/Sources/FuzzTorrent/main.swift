// libFuzzer target for TorrentMetainfo and TorrentInfo (see FuzzEntryPoints/TorrentFuzzInput.swift for the input layout and invariants).
import FuzzEntryPoints

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorrent(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    torrentFuzzInput(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
