// Ground truth of a sample capture (SampleCaptures/<scenario>/truth.json), written by
// Scripts/make-sample-captures from what it launched, never from a classifier.
import Foundation
import PacketDecode
import BitTorrentClassifier

public struct GroundTruth: Sendable {
    public struct Flow: Sendable {
        public var proto: String           // "tcp" | "udp"
        public var a: IPAddress, aPort: UInt16
        public var b: IPAddress, bPort: UInt16
        public var label: String
        public var infoHashes: Set<InfoHash>
        /// False when no payload crossed the flow (a refused SYN): nothing there to classify.
        public var hasPayload: Bool = true
        /// The client that opened the connection (MSE's A) and the one that accepted it (B), for
        /// per-client recall; from `initiator_client`/`responder_client`, or the older "A / B" `client`.
        public var initiatorClient: String? = nil
        public var responderClient: String? = nil
    }
    public struct Evidence: Sendable, Hashable {
        public var ip: IPAddress
        public var infoHash: InfoHash
        public var confidence: String?
    }
    public var scenario: String
    public var flows: [Flow]
    public var evidence: [Evidence]
    /// Evidence entries that name a proxy (`via`, `target`, `attributed_to`): AttributionScore.
    public var attribution: [AttributionScore.Item] = []

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String, String)
        case malformed(String, String)
        public var description: String {
            switch self {
            case .unreadable(let p, let r): "cannot read truth file \(p): \(r)"
            case .malformed(let p, let r): "truth file \(p) is malformed: \(r)"
            }
        }
    }

    /// Reads truth.json: {"scenario", "flows": [{proto, src_ip, src_port, dst_ip, dst_port, label, infohashes,
    /// has_payload?, initiator_client?, responder_client?}],
    /// "evidence": [{ip, infohash, confidence}]}.
    public static func load(path: String) throws -> GroundTruth {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw LoadError.unreadable(path, "\(error)") }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LoadError.malformed(path, "not a JSON object")
        }
        var flows: [Flow] = []
        for (i, f) in ((root["flows"] as? [[String: Any]]) ?? []).enumerated() {
            guard let proto = f["proto"] as? String,
                  let a = (f["src_ip"] as? String).flatMap(IPAddress.init), let b = (f["dst_ip"] as? String).flatMap(IPAddress.init),
                  let ap = port(f["src_port"]), let bp = port(f["dst_port"]), let label = f["label"] as? String else {
                throw LoadError.malformed(path, "flow \(i) lacks proto, addresses, ports or label")
            }
            let hashes = hashList(f["infohashes"]).compactMap { InfoHash(hex: $0) }
            var flow = Flow(proto: proto.lowercased(), a: a, aPort: ap, b: b, bPort: bp, label: label, infoHashes: Set(hashes))
            flow.hasPayload = (f["has_payload"] as? Bool) ?? true
            let pair = ((f["client"] as? String) ?? "").components(separatedBy: " / ")
            flow.initiatorClient = (f["initiator_client"] as? String) ?? (pair.count == 2 ? pair[0] : nil)
            flow.responderClient = (f["responder_client"] as? String) ?? (pair.count == 2 ? pair[1] : nil)
            flows.append(flow)
        }
        var evidence: [Evidence] = []
        for (i, e) in ((root["evidence"] as? [[String: Any]]) ?? []).enumerated() {
            guard let ip = (e["ip"] as? String).flatMap(IPAddress.init), let h = (e["infohash"] as? String).flatMap({ InfoHash(hex: $0) }) else {
                throw LoadError.malformed(path, "evidence \(i) lacks ip or infohash")
            }
            evidence.append(Evidence(ip: ip, infoHash: h, confidence: e["confidence"] as? String))
        }
        let scenario = (root["scenario"] as? String) ?? URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
        return GroundTruth(scenario: scenario, flows: flows, evidence: evidence, attribution: AttributionScore.truthItems(root))
    }

    private static func port(_ v: Any?) -> UInt16? {
        if let n = v as? Int { return UInt16(exactly: n) }
        if let s = v as? String { return UInt16(s) }
        return nil
    }
    private static func hashList(_ v: Any?) -> [String] {
        if let a = v as? [String] { return a }
        if let s = v as? String { return s.split(separator: ";").map(String.init) }
        return []
    }
}
