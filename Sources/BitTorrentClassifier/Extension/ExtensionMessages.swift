// Extension protocol messages (BEP 10, https://www.bittorrent.org/beps/bep_0010.html).
//
// BEP 10: "At the start of the payload of the message, is a single byte message identifier. [...]
// If the ID is 0, the message is a handshake message". "The payload of the handshake message is a
// bencoded dictionary. All items in the dictionary are optional." Keys: "m" ("Dictionary of supported
// extension messages which maps names of extensions to an extended message ID"), "p" ("Local TCP
// listen port"), "v" ("Client name and version (as a utf-8 string)"), "yourip" ("A string containing
// the compact representation of the ip address this peer sees you as"), "ipv4", "ipv6", "reqq"
// ("the number of outstanding request messages this client supports"), and "metadata_size" (BEP 9).
//
// Message ids other than 0 are chosen by the RECEIVER (they come from the other side's `m` map), so a
// one-direction classifier cannot map ids to names. Messages are therefore recognised by content:
// ut_metadata dictionaries have integer `msg_type` and `piece` (ut_comment also has `msg_type`, but no
// `piece`: bittorrent.pcap frames 24/36), ut_pex dictionaries have `added`/`added6`/`dropped`/
// `dropped6`. Binary extensions (upload_only: one byte, lt_donthave: 4 bytes) are not bencoded and
// give `.noMatch`.
import WireBytes

public enum ExtensionMessages {
    /// `v` longer than this is cut (client strings are ~20 bytes: "µTorrent Mac 1.8.6").
    public static let maximumClientNameLength = 256
    /// Entries of the `m` map kept (real clients advertise ~10 extensions).
    public static let maximumMessageMapEntries = 64
    /// Extension names longer than this are not kept (longest seen: "ut_holepunch", 12).
    public static let maximumExtensionNameLength = 64

    /// Inspects the payload of one extended message (the bytes after the extended message id).
    @discardableResult
    public static func inspect<S: ClassifierSink>(extendedID: UInt8, payload: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        if extendedID == 0 { return inspectHandshake(payload, sink: &sink) }
        // Content-based: only bencoded dictionaries can be ut_metadata or ut_pex.
        guard payload.u8(at: 0) == UInt8(ascii: "d") else { return .noMatch }
        let dict: BencodeItem
        do throws(BencodeError) {
            dict = try BencodeScanner.value(in: payload, limits: .datagram)
        } catch {
            return .noMatch   // another extension's binary payload that happens to start with 'd'
        }
        guard dict.kind == .dictionary else { return .noMatch }
        if let result = UTMetadata.inspect(dict, payload: payload, sink: &sink) { return result }
        if dict.end == payload.count, let result = UTPex.inspect(dict, sink: &sink) { return result }
        return .noMatch
    }

    static func inspectHandshake<S: ClassifierSink>(_ payload: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        let dict: BencodeItem
        do throws(BencodeError) {
            dict = try BencodeScanner.document(payload, limits: .datagram)
        } catch {
            sink.receive(.malformed(.extensionBadBencode))
            return .noMatch
        }
        guard dict.kind == .dictionary else { sink.receive(.malformed(.extensionBadBencode)); return .noMatch }
        var hs = ExtendedHandshake()
        for (key, value) in dict.entries {
            if key.isString("v") {
                hs.client = value.string(maxBytes: maximumClientNameLength)
            } else if key.isString("p") {
                hs.listenPort = value.integer(in: 1...65_535).map { UInt16($0) }
            } else if key.isString("metadata_size") {
                hs.metadataSize = value.integer(in: 0...Int64(Int32.max))
            } else if key.isString("reqq") {
                hs.requestQueue = value.integer(in: 0...Int64(Int32.max))
            } else if key.isString("yourip") {
                if let ip = value.stringBytes, ip.count == 4 || ip.count == 16 { hs.yourIP = Array(ip) }
            } else if key.isString("m") {
                for (name, id) in value.entries {
                    guard hs.messageIDs.count < maximumMessageMapEntries, let n = name.stringBytes,
                          n.count <= maximumExtensionNameLength, let i = id.integer(in: 0...255) else { continue }
                    hs.messageIDs[String(decoding: n, as: UTF8.self)] = i
                }
            }
        }
        sink.receive(.extendedHandshake(hs))
        return .match
    }
}
