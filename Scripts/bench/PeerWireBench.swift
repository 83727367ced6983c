// Micro-benchmark: nanoseconds per 16 KiB piece message through PeerWireStream, fed in
// 1460-byte TCP-segment-sized chunks and in one buffer. Built by Scripts/bench-peerwire.sh with -O.
import BitTorrentClassifier

struct CountingSink: ClassifierSink {
    var messages = 0
    var bytes = 0
    mutating func receive(_ event: ClassifierEvent) {
        switch event {
        case .peerMessage: messages += 1
        case .pieceBytes(_, _, let b): bytes &+= b.count
        default: break
        }
    }
}

let block = 16 * 1024
let perBuffer = 64
var buffer: [UInt8] = []
for i in 0..<perBuffer {
    let len = UInt32(block + 9)
    buffer += [UInt8(len >> 24), UInt8(len >> 16 & 0xff), UInt8(len >> 8 & 0xff), UInt8(len & 0xff), 7]
    buffer += [0, 0, 0, UInt8(i), 0, 0, 0, 0]
    buffer += [UInt8](repeating: UInt8(i), count: block)
}

func run(chunk: Int, rounds: Int) -> (Double, CountingSink) {
    var stream = PeerWireStream(expectHandshake: false)
    var sink = CountingSink()
    let clock = ContinuousClock()
    let t = clock.measure {
        buffer.withUnsafeBytes { buf in
            for _ in 0..<rounds {
                var i = 0
                while i < buf.count {
                    let n = min(chunk, buf.count - i)
                    stream.consume(UnsafeRawBufferPointer(rebasing: buf[i..<(i + n)]), sink: &sink)
                    i += n
                }
            }
        }
    }
    let ns = Double(t.components.seconds) * 1e9 + Double(t.components.attoseconds) / 1e9
    return (ns / Double(rounds * perBuffer), sink)
}

let rounds = 2000
for chunk in [1460, buffer.count] {
    _ = run(chunk: chunk, rounds: 50)  // warm up
    let (ns, sink) = run(chunk: chunk, rounds: rounds)
    precondition(sink.messages == rounds * perBuffer && sink.bytes == rounds * perBuffer * block)
    let label = chunk == 1460 ? "1460-byte chunks" : "whole buffer"
    print("PeerWireStream, 16 KiB piece messages, \(label): \(String(Int(ns))) ns/message (\(rounds * perBuffer) messages)")
}
