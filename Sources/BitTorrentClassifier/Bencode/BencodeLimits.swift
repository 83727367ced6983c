// Limits for the bencode scanner (DESIGN.md rule 5).
//
// BEP 3 (https://www.bittorrent.org/beps/bep_0003.html), "bencoding": "Strings are length-prefixed
// base ten followed by a colon and the string", "Integers are represented by an 'i' followed by the
// number in base 10 followed by an 'e'", lists and dictionaries nest without bound. The spec sets no
// limits, so every limit here is ours, sized for what the BEPs actually put on the wire:
// - KRPC (BEP 5) nests at most 3 deep (message dict > `a`/`r` dict > `values` list > string); BEP 44
//   `put` carries an arbitrary bencoded `v` of at most 1000 bytes, so 16 levels is generous.
// - Metainfo (BEP 3, BEP 52): a v2 `file tree` nests one dict per path component plus two, so the
//   depth follows the deepest directory; 64 covers any path a filesystem accepts in practice.

public struct BencodeLimits: Sendable, Equatable {
    /// Maximum nesting of lists and dictionaries (the root container is depth 1).
    public var maxDepth: Int
    /// Maximum length of one byte string.
    public var maxStringLength: Int
    /// Maximum number of items (every string, integer, list and dictionary) in one top-level value.
    public var maxItems: Int
    /// Maximum digits of an integer, sign excluded. 19 digits always fit in Int64 up to 9.2e18.
    public var maxIntegerDigits: Int

    public init(maxDepth: Int, maxStringLength: Int, maxItems: Int, maxIntegerDigits: Int = 19) {
        self.maxDepth = maxDepth; self.maxStringLength = maxStringLength
        self.maxItems = maxItems; self.maxIntegerDigits = maxIntegerDigits
    }

    /// One UDP datagram (DHT, at most 65 507 bytes) or one extension-protocol message. A DHT
    /// response holds at most a few hundred items (8 nodes, ~100 `values`, BEP 51 `samples`).
    public static let datagram = BencodeLimits(maxDepth: 16, maxStringLength: 65_536, maxItems: 4_096)

    /// A .torrent file or an info dictionary fetched with ut_metadata (BEP 9). `pieces` and BEP 52
    /// `piece layers` strings reach tens of MiB for very large torrents; 1 Mi items covers a torrent
    /// with ~300 000 files.
    public static let metainfo = BencodeLimits(maxDepth: 64, maxStringLength: 64 << 20, maxItems: 1 << 20)

    /// Digits allowed in a string length prefix: 10 covers the largest `maxStringLength` above.
    public static let maxLengthDigits = 10
}
