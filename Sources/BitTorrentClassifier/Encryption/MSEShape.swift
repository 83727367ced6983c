// "Does this look like the random bytes of an MSE handshake?" (Vuze wiki "Message Stream
// Encryption": Ya/Yb are DH public keys, PadA/PadB random, the rest SHA-1 hashes and RC4 output.)
// The tests reject the first bytes of protocols that a flow table meets most and that have a
// fixed header: BitTorrent's own handshake, TLS records, SSH banners, text protocols, and binary
// headers with zero bytes (length fields, versions). Thresholds sit about 5 standard deviations
// from what uniformly random bytes give, so real MSE is almost never rejected (see each test).

/// Per byte value: 1 if printable text (0x20-0x7E, LF, CR), 2 if zero (MSEShape.nonRandom).
private let byteClasses: [UInt8] = (0..<256).map { b in
    b == 0 ? 2 : ((b >= 0x20 && b < 0x7F) || b == 0x0A || b == 0x0D ? 1 : 0)
}

enum MSEShape {
    /// Why `sample` (the first bytes of a run) cannot be random MSE bytes, or nil.
    static func nonRandom(_ sample: [UInt8]) -> MSERejection? {
        sample.withUnsafeBytes { nonRandom($0) }
    }

    /// `nonRandom` of bytes in place (a segment's payload: no copy into a sample first).
    static func nonRandom(_ sample: UnsafeRawBufferPointer) -> MSERejection? {
        let n = sample.count
        guard n > 0 else { return nil }
        // BEP 3 handshake: "\x13BitTorrent protocol" (random: 2^-32 for the first 4 bytes).
        if n >= 4, sample[0] == 0x13, sample[1] == 0x42, sample[2] == 0x69, sample[3] == 0x74 { return .bittorrentHandshake }
        // TLS record header (RFC 8446 §5.1): ContentType 20..23, legacy version 0x03 0x00..0x04.
        if n >= 3, (20...23).contains(sample[0]), sample[1] == 3, sample[2] <= 4 { return .tlsRecord }
        // SSH (RFC 4253 §4.2): "SSH-protoversion-softwareversion".
        if n >= 4, sample[0] == 0x53, sample[1] == 0x53, sample[2] == 0x48, sample[3] == 0x2D { return .sshBanner }
        // Two zero bytes in the first four: a length or version field (random: about 1e-4).
        if n >= 4, (sample[0] == 0 ? 1 : 0) + (sample[1] == 0 ? 1 : 0) + (sample[2] == 0 ? 1 : 0) + (sample[3] == 0 ? 1 : 0) >= 2 {
            return .structuredHeader
        }
        var printable = 0, zeros = 0
        // Distinct values in a 256-bit set on the stack, indexed rather than switched on (random
        // bytes mispredict a switch); printable and zero bytes counted through a table of byte classes.
        let distinct = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4) { seen -> Int in
            seen.initialize(repeating: 0)
            byteClasses.withUnsafeBufferPointer { classes in
                for b in sample {
                    let c = classes[Int(b)]
                    printable &+= Int(c & 1)
                    zeros &+= Int(c >> 1)
                    seen[Int(b >> 6)] |= UInt64(1) << UInt64(b & 63)
                }
            }
            return seen[0].nonzeroBitCount + seen[1].nonzeroBitCount + seen[2].nonzeroBitCount + seen[3].nonzeroBitCount
        }
        // Printable ASCII: 95/256 = 37% of random bytes; > 60% over 96 bytes is ~5 sigma away.
        // Short samples get a fixed allowance so a 20-byte hash is not judged on a few bytes.
        if printable * 100 > n * 60 + 600 { return .printableText }
        // Zero bytes: n/256 expected (0.4 in 96); more than n/32 + 3 is far outside.
        if zeros > n / 32 + 3 { return .lowEntropy }
        // Distinct values: 96 random bytes give about 80 distinct (sd ~3.5); require 70% of n.
        if distinct * 10 < n * 7 { return .lowEntropy }
        return nil
    }
}
