// What every record parser shares while reading one file: the running result, frame numbering,
// and the damage log. A struct owned by the read loop: no allocation per record.
import WireBytes

/// One parse pass over a buffer: how many bytes were used, how many the parser needs from the
/// new start before it can go on (0: nothing particular), and whether the caller asked to stop.
/// What a search for the next plausible record or block found after garbage.
enum ResyncOutcome { case found(Int), needMore(Int, Int), exhausted }

extension ReadState {
    /// Counts the bytes skipped while resynchronising; moves `pos` to the record found, or returns
    /// the step the parser returns (more bytes needed, or the buffer was all garbage).
    mutating func applyResync(_ outcome: ResyncOutcome, pos: inout Int, bufferCount: Int) -> ParseStep? {
        switch outcome {
        case .found(let q):
            note(.garbageBytes, q - pos)
            note(.resynchronised)
            pos = q
            return nil
        case .needMore(let q, let n):
            note(.garbageBytes, q - pos)
            return ParseStep(consumed: q, need: n, stop: false)
        case .exhausted:
            note(.garbageBytes, bufferCount - pos)
            return ParseStep(consumed: bufferCount, need: 0, stop: false)
        }
    }
}

struct ParseStep {
    var consumed: Int
    var need: Int
    var stop: Bool
}

/// Record parsers (pcap, pcapng) take bytes a buffer at a time (a file's chunk or a stream's).
/// They never consume a partial record unless `atEOF` (then it is damage).
protocol RecordParser {
    mutating func parse(_ buf: UnsafeRawBufferPointer, base: Int, atEOF: Bool, state: inout ReadState,
                        body: (CaptureRecord) -> Bool) -> ParseStep
}

struct ReadState {
    let path: String
    var result = CaptureReadResult()

    init(path: String) { self.path = path }

    /// The next frame number (1-based, Wireshark's numbering).
    var nextFrame: Int { result.packets + 1 }

    @inline(__always)
    mutating func deliver(_ record: CaptureRecord, _ body: (CaptureRecord) -> Bool) -> Bool {
        result.packets &+= 1
        result.bytes &+= record.capturedLength
        if record.capturedLength < record.originalLength { result.truncatedBySnaplen &+= 1 }
        if record.hasTimestamp {
            // Earliest and latest, as capinfos reports them (merged captures are not in time order).
            let t = record.timestamp
            if let f = result.firstTimestamp, let l = result.lastTimestamp {
                if t < f { result.firstTimestamp = t }
                if t > l { result.lastTimestamp = t }
            } else {
                result.firstTimestamp = t; result.lastTimestamp = t
            }
        } else {
            result.packetsWithoutTimestamp &+= 1
        }
        let goOn = body(record)
        if !goOn { result.stoppedEarly = true }
        return goOn
    }

    mutating func note(_ a: CaptureAnomaly, _ n: Int = 1) { result.anomalies.add(a, n) }

    /// Counts the anomaly and, when it means damage, logs where it is.
    mutating func damage(_ a: CaptureAnomaly, at offset: Int, _ detail: String) {
        result.anomalies.add(a)
        guard result.damage.count < CaptureLimits.maxDamageMessages else { return }
        result.damage.append(CaptureDamage(path: path, anomaly: a, offset: offset, frameNumber: nextFrame, detail: detail))
    }
}
