// Entry point of the FuzzPcap and FuzzPcapNG libFuzzer targets (they differ only in their seed corpora):
// the input is a whole capture file. CaptureReader opens files by path (it maps them), so the input is
// written to a per-process scratch file in /dev/shm (memory) first; every record is then decoded with
// PacketDecoder and checked like FuzzDecode's frames. Replayed by FuzzReplayTests.
import CaptureFile
import PacketDecode
import WireBytes
#if canImport(Glibc)
import Glibc
#endif

/// Frames read per input at most (a 64 KB input cannot hold more than ~4,000 records anyway).
let maxFuzzRecords = 100_000

private let scratchPath: String = {
    let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return "\(dir)/torscan-fuzz-\(getpid()).cap"
}()

/// Reads a capture held in memory and decodes every record. Returns the number of records read
/// (0 when the reader refuses the file: wrong magic, empty...).
@discardableResult
public func readCaptureFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(scratchPath)")
    if let base = bytes.baseAddress, bytes.count > 0 { precondition(write(fd, base, bytes.count) == bytes.count) }
    close(fd)
    defer { unlink(scratchPath) }
    guard let reader = try? CaptureReader(path: scratchPath) else { return 0 }
    var decoder = PacketDecoder(limits: fuzzDecoderLimits)
    var records = 0
    let result = reader.forEachRecord { record in
        records += 1
        precondition(record.frameNumber == records, "frame numbers must count 1, 2, 3...")
        precondition(record.data.count == record.capturedLength && record.capturedLength <= bytes.count)
        let p = decoder.decode(record.data, linkType: record.linkType, timestamp: record.timestamp)
        checkInvariants(p, frame: record.data)
        return records < maxFuzzRecords
    }
    precondition(result.packets == records, "packet count disagrees with the records delivered")
    return records
}
