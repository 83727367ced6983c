// BEP 52 (BitTorrent v2) merkle hashing: a file is cut into 16 KiB blocks (the last may be shorter),
// each leaf is SHA-256 of its block, and parents are SHA-256(left || right). Leaves missing to reach a
// power of two are 32 zero bytes ("set to zero", BEP 52), not hashes of zeros. A piece-layer entry is
// the root of the subtree over one piece's leaves, padded to the piece's full width.
import Crypto

public enum BEP52Merkle {
    /// The leaf block size fixed by BEP 52.
    public static let blockSize = 16 * 1024
    static let zero = [UInt8](repeating: 0, count: 32)

    /// SHA-256 of each 16 KiB block of `bytes` (the last block may be shorter; empty input: no leaves).
    public static func leafHashes(_ bytes: UnsafeRawBufferPointer) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity((bytes.count + blockSize - 1) / blockSize)
        var start = 0
        while start < bytes.count {
            let end = min(start + blockSize, bytes.count)
            out.append(Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))))
            start = end
        }
        return out
    }

    /// The root over `leaves` padded with zero hashes to `width` leaves; `width` must be a power of two
    /// no smaller than `leaves.count` (else nil).
    public static func root(leaves: [[UInt8]], width: Int) -> [UInt8]? {
        guard width > 0, width & (width - 1) == 0, leaves.count <= width else { return nil }
        var layer = leaves
        var layerWidth = width
        // The hash of an all-padding subtree at the current height (zeros at the leaves).
        var padding = zero
        while layerWidth > 1 {
            var next: [[UInt8]] = []
            next.reserveCapacity((layer.count + 1) / 2)
            var i = 0
            while i < layer.count {
                let right = i + 1 < layer.count ? layer[i + 1] : padding
                next.append(parent(layer[i], right))
                i += 2
            }
            padding = parent(padding, padding)
            layer = next
            layerWidth /= 2
        }
        return layer.first ?? padding
    }

    /// The smallest power of two no smaller than `n` (1 for 0).
    public static func paddedWidth(_ n: Int) -> Int {
        var w = 1
        while w < n { w <<= 1 }
        return w
    }

    static func parent(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: a)
        h.update(data: b)
        return Array(h.finalize())
    }
}
