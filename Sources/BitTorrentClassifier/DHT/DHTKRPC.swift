// Mainline DHT messages: KRPC over UDP.
// BEP 5  (https://www.bittorrent.org/beps/bep_0005.html): "A KRPC message is a single dictionary with
//   three keys common to every message and additional keys depending on the type of message. Every
//   message has a key "t" with a string value representing a transaction ID. [...] Every message also
//   has a key "y" with a single character value describing the type of message. The value of the "y"
//   key is one of "q" for query, "r" for response, or "e" for error." Queries carry "q" (method name)
//   and "a" (arguments, always with the 20-byte "id" of the querying node); responses carry "r"
//   (always with the responder's "id"); errors carry "e", a list whose "first element is an integer
//   representing the error code. The second element is a string containing the error message."
//   Methods: ping, find_node (target), get_peers (info_hash; answer: token + values or nodes),
//   announce_peer (info_hash, port, token, optional implied_port).
// BEP 42 (https://www.bittorrent.org/beps/bep_0042.html): top-level "ip" (the requester's compact
//   address) in responses; node ids derived from the IP, so "id" stays 20 bytes.
// BEP 44 (https://www.bittorrent.org/beps/bep_0044.html): "get"/"put" with "target", "token", "v",
//   "k", "sig", "seq", "salt".
// BEP 51 (https://www.bittorrent.org/beps/bep_0051.html): "sample_infohashes" (argument "target"),
//   response "samples": "a string of multiple concatenated infohashes (20 bytes each)", "num", "interval".
// Top-level "v" (client version, BEP 20 style 4 bytes e.g. "UT" + version) is optional everywhere.
//
// Probe: Wireshark's test_bt_dht accepts a fixed list of first keys (d1:a, d1:e, d1:r, d1:t, d1:v,
// d2:ip, d1:y...) because sorted dictionaries start with one of them. Clients do not always sort
// (bt-udp.pcap frame 3 starts with `d1:q`), so the probe accepts any KRPC key first and the full
// parse decides.
import WireBytes

public enum DHTDetector {
    /// Smallest KRPC message we accept: the error `d1:eli0ee1:t0:1:y1:ee` is 21 bytes (queries and
    /// responses carry a 20-byte id and are at least 41).
    public static let minimumMessageLength = 21
    /// BEP 5 leaves the transaction id length open; clients use 2 to 8 bytes. Longer is not KRPC.
    public static let maximumTransactionIDLength = 64
    /// Method names are short ASCII words ("sample_infohashes" is the longest in a BEP: 17).
    public static let maximumMethodLength = 32
    /// BEP 5 node ids and infohashes are 160-bit.
    public static let nodeIDLength = 20

    /// O(1) shape test: a dictionary whose first key is one that a KRPC message can start with.
    public static func probe(_ d: UnsafeRawBufferPointer) -> Bool {
        guard d.count >= minimumMessageLength, d.u8(at: 0) == UInt8(ascii: "d") else { return false }
        if d.matches("1:", at: 1), let k = d.u8(at: 3) {
            switch k {
            case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "q"), UInt8(ascii: "r"),
                 UInt8(ascii: "t"), UInt8(ascii: "v"), UInt8(ascii: "y"): return d.u8(at: 4).map(isValueStart) ?? false
            default: return false
            }
        }
        return d.matches("2:ip", at: 1) || d.matches("2:ro", at: 1)
    }

    /// Inspects one UDP payload. `.match` after emitting `.dht`; a datagram is complete, so a
    /// truncated one is `.noMatch` (never `.needMore`).
    public static func inspect<S: ClassifierSink>(_ datagram: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        guard probe(datagram) else { return .noMatch }
        let root: BencodeItem
        do throws(BencodeError) {
            root = try BencodeScanner.document(datagram, limits: .datagram)
        } catch {
            if !error.isNeedMore { sink.receive(.malformed(.dhtBadBencode)) }
            return .noMatch
        }
        switch parse(root) {
        case .message(let m): sink.receive(.dht(m)); return .match
        case .brokenKRPC: sink.receive(.malformed(.dhtBadMessage)); return .noMatch
        case .notKRPC: return .noMatch
        }
    }

    enum Outcome { case message(DHTMessage), brokenKRPC, notKRPC }

    static func parse(_ root: BencodeItem) -> Outcome {
        var y: BencodeItem?, t: BencodeItem?, q: BencodeItem?, a: BencodeItem?, r: BencodeItem?, e: BencodeItem?, v: BencodeItem?
        for (key, value) in root.entries {
            guard key.stringLength == 1, let k = key.bytes.u8(at: key.contentStart) else { continue }
            switch k {
            case UInt8(ascii: "y"): y = value
            case UInt8(ascii: "t"): t = value
            case UInt8(ascii: "q"): q = value
            case UInt8(ascii: "a"): a = value
            case UInt8(ascii: "r"): r = value
            case UInt8(ascii: "e"): e = value
            case UInt8(ascii: "v"): v = value
            default: break
            }
        }
        // Without a one-letter `y` naming q, r or e these are just bencoded bytes; with one, the
        // message claims to be KRPC and must also have a string `t`.
        guard let y, y.stringLength == 1, let type = y.bytes.u8(at: y.contentStart),
              type == UInt8(ascii: "q") || type == UInt8(ascii: "r") || type == UInt8(ascii: "e") else { return .notKRPC }
        guard let t, let tid = t.stringBytes, tid.count <= maximumTransactionIDLength else { return .brokenKRPC }
        var m: DHTMessage
        switch type {
        case UInt8(ascii: "q"):
            guard let q, let name = q.stringBytes, (1...maximumMethodLength).contains(name.count),
                  let a, a.kind == .dictionary else { return .brokenKRPC }
            m = DHTMessage(kind: .query, method: methodName(name))
            guard readArguments(a, into: &m) else { return .brokenKRPC }
        case UInt8(ascii: "r"):
            guard let r, r.kind == .dictionary else { return .brokenKRPC }
            m = DHTMessage(kind: .response)
            guard readResponse(r, into: &m) else { return .brokenKRPC }
        case UInt8(ascii: "e"):
            guard let e, e.kind == .list, let code = e.firstElement, let c = code.integer(in: 0...65_535) else {
                return .brokenKRPC
            }
            m = DHTMessage(kind: .error, errorCode: c)
        default:
            return .notKRPC
        }
        m.transactionID = Array(tid)
        if let v, let version = v.stringBytes { m.clientVersion = Array(version) }
        return .message(m)
    }

    /// Query arguments (`a`): the sender's id is mandatory.
    static func readArguments(_ a: BencodeItem, into m: inout DHTMessage) -> Bool {
        var hasID = false
        for (key, value) in a.entries {
            if key.isString("id") {
                guard let id = value.stringBytes, id.count == nodeIDLength else { return false }
                m.nodeID = Array(id); hasID = true
            } else if key.isString("info_hash") {
                if let h = value.stringBytes, h.count == nodeIDLength { m.infoHash = InfoHash(bytes: h) }
            } else if key.isString("target") {
                if let h = value.stringBytes, h.count == nodeIDLength { m.target = Array(h) }
            } else if key.isString("port") {
                m.port = value.integer(in: 1...65_535).map { UInt16($0) }
            } else if key.isString("implied_port") {
                m.impliedPort = (value.integer ?? 0) != 0
            } else if key.isString("token") {
                m.hasToken = value.kind == .string
            }
        }
        return hasID
    }

    /// Response values (`r`): the responder's id is mandatory.
    static func readResponse(_ r: BencodeItem, into m: inout DHTMessage) -> Bool {
        var hasID = false
        for (key, value) in r.entries {
            if key.isString("id") {
                guard let id = value.stringBytes, id.count == nodeIDLength else { return false }
                m.nodeID = Array(id); hasID = true
            } else if key.isString("token") {
                m.hasToken = value.kind == .string
            } else if key.isString("values") {
                // Compact peer info: 6 bytes (IPv4) or 18 bytes (IPv6) per element.
                for peer in value.elements where peer.stringLength == 6 || peer.stringLength == 18 { m.peersReturned += 1 }
            } else if key.isString("samples") {
                if let s = value.stringLength, s % nodeIDLength == 0 { m.samplesReturned = s / nodeIDLength }
            }
        }
        return hasID
    }

    /// Known method names as static strings (no allocation); others decoded as they are.
    static func methodName(_ name: UnsafeRawBufferPointer) -> String {
        for known in knownMethods where name.count == known.utf8CodeUnitCount && name.matches(known) {
            return known.description
        }
        return String(decoding: name, as: UTF8.self)
    }
    static let knownMethods: [StaticString] = ["ping", "find_node", "get_peers", "announce_peer", "sample_infohashes", "get", "put"]

    static func isValueStart(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "d") || c == UInt8(ascii: "l") || c == UInt8(ascii: "i") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }
}
