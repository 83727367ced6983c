// HTTP trackers: announce and scrape requests and their bencoded answers.
// BEP 3  (https://www.bittorrent.org/beps/bep_0003.html), "Trackers": "Tracker GET requests have the
//   following keys: info_hash: The 20 byte sha1 hash of the bencoded form of the info value from the
//   metainfo file. This value will almost certainly have to be escaped. [...] peer_id [...] port [...]
//   uploaded [...] downloaded [...] left [...] event: This is an optional key which maps to started,
//   completed, or stopped". "Tracker responses are bencoded dictionaries. If a tracker response has a
//   key failure reason, then that maps to a human readable string [...]. Otherwise, it must have two
//   keys: interval [...] peers."
// BEP 23 (https://www.bittorrent.org/beps/bep_0023.html): "the peers list is replaced by a peers
//   string with 6 bytes per peer. The first four bytes are the host (in network byte order), the last
//   two bytes are the port (again in network byte order)."
// BEP 7  (https://www.bittorrent.org/beps/bep_0007.html): "peers6" with 18 bytes per peer.
// BEP 48 (https://www.bittorrent.org/beps/bep_0048.html): scrape: "find the last '/' and if the text
//   immediately following is 'announce', substitute 'scrape'"; "info_hash" may be repeated.
// BEP 52: v2 torrents announce the SHA-256 infohash truncated to 20 bytes, so 20 bytes is the only
//   valid length here.
//
// Stateless: call `inspectRequest` with the first bytes of the client-to-server direction, again
// after `.needMore` with more bytes; `inspectResponse` likewise for the server-to-client direction.
import WireBytes

public enum HTTPTrackerDetector {
    /// RFC 9112 section 3: "It is RECOMMENDED that all HTTP senders and recipients support, at a minimum,
    /// request-line lengths of 8000 octets." Past this without a line end, it is not a tracker request.
    public static let maximumRequestLineLength = 8_192
    /// Status line plus headers of a tracker response (they are a handful of short lines).
    public static let maximumResponseHeaderLength = 8_192
    /// A tracker answer with 200 compact peers is ~1.3 KB; non-compact lists and peers6 are larger.
    public static let maximumResponseBodyLength = 65_536
    /// BEP 48 scrape requests name several infohashes; a full 8 KiB URL holds about 130.
    public static let maximumInfoHashesPerRequest = 256
    /// User-Agent values kept (client strings are short: "Transmission/2.94").
    public static let maximumUserAgentLength = 256

    /// A GET whose query names at least one 20-byte `info_hash`: `.httpTrackerRequest`, or
    /// `.webSeedRequest` for a BEP 17 HTTP seed request (`piece=` and no `peer_id`).
    public static func inspectRequest<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        HTTPTrackerRequestParser.inspect(bytes, sink: &sink)
    }

    /// The head of a request stream that was cut (a snap length of 200 cuts most announces): the
    /// parameters that end before the cut. Call it when the stream has a hole, instead of giving up.
    public static func inspectCutRequest<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        HTTPTrackerRequestParser.inspectCut(bytes, sink: &sink)
    }

    /// `HTTP/1.x 200` with an identity (or single-chunk) bencoded body that is a tracker answer.
    /// Compressed bodies (`Content-Encoding: gzip`, e.g. zeek_bittorrent_tracker.pcap frame 6) give
    /// `.noMatch`: inflate them outside this module and call `inspectResponseBody`.
    public static func inspectResponse<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        HTTPTrackerResponseParser.inspect(bytes, sink: &sink)
    }

    /// The bencoded body of a tracker answer (announce or scrape), already de-chunked and inflated.
    public static func inspectResponseBody<S: ClassifierSink>(_ body: UnsafeRawBufferPointer, complete: Bool, sink: inout S) -> ProbeResult {
        HTTPTrackerResponseParser.inspectBody(body, complete: complete, sink: &sink)
    }
}
