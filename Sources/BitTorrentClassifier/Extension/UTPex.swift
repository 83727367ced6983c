// ut_pex: peer exchange (BEP 11, https://www.bittorrent.org/beps/bep_0011.html).
//
// BEP 11: the message is a bencoded dictionary with "added" (compact IPv4 peers, 6 bytes each: address
// then port, network order, as in BEP 23), "added.f" (one flag byte per added peer), "added6" and
// "dropped6" (compact IPv6, 18 bytes each), and "dropped". "there must be no more than 50 added and 50
// dropped entries in a single message" (per address family is how clients read it).
import WireBytes

public enum UTPex {
    /// BEP 11 allows 50 per list; clients overshoot a little, so we keep up to 4x that and ignore the rest.
    public static let maximumPeersPerList = 200

    /// Recognises a ut_pex dictionary; nil when `dict` has none of its keys.
    static func inspect<S: ClassifierSink>(_ dict: BencodeItem, sink: inout S) -> ProbeResult? {
        var added: [PeerEndpoint] = [], dropped: [PeerEndpoint] = []
        var seen = false
        for (key, value) in dict.entries {
            let isAdded = key.isString("added") || key.isString("added6")
            let isDropped = key.isString("dropped") || key.isString("dropped6")
            guard isAdded || isDropped else { continue }
            let width = key.isString("added") || key.isString("dropped") ? 6 : 18
            guard let list = value.stringBytes, list.count % width == 0 else {
                sink.receive(.malformed(.extensionBadBencode))
                return .noMatch
            }
            seen = true
            if isAdded { appendCompactPeers(list, width: width, to: &added) } else { appendCompactPeers(list, width: width, to: &dropped) }
        }
        guard seen else { return nil }
        sink.receive(.pex(added: added, dropped: dropped))
        return .match
    }
}

/// Appends BEP 23 compact peers (4- or 16-byte address + 2-byte big-endian port), up to the limit.
func appendCompactPeers(_ list: UnsafeRawBufferPointer, width: Int, to out: inout [PeerEndpoint],
                        limit: Int = UTPex.maximumPeersPerList) {
    var offset = 0
    var taken = 0
    while offset + width <= list.count, taken < limit {
        let address = Array(list.slice(offset, width - 2))
        let port = list.u16be(at: offset + width - 2) ?? 0
        out.append(PeerEndpoint(address: address, port: port))
        offset += width
        taken += 1
    }
}
