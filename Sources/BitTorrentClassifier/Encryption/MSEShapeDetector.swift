// Encrypted BitTorrent (MSE/PE) recognised by the shape of its key exchange.
// Spec: "Message Stream Encryption", Vuze/Azureus wiki (azureuswiki.com/index.php/Message_Stream_Encryption,
// archived copy of 2007 consulted), section "Protocol":
//   1 A->B: Diffie Hellman Ya, PadA
//   2 B->A: Diffie Hellman Yb, PadB
//   3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, crypto_provide,
//           len(PadC), PadC, len(IA)), ENCRYPT(IA)
//   4 B->A: ENCRYPT(VC, crypto_select, len(padD), padD), ENCRYPT2(Payload Stream)
//   5 A->B: ENCRYPT2(Payload Stream)
// "Ya/Yb ... 768 bit" = 96 bytes; "PadA/PadB: random data with a random length of 0 to 512 bytes
// each"; VC is 8 bytes, crypto_provide/select 4, len(X) 2; HASH is SHA-1 (20 bytes). Its
// "Optional early termination conditions": "if A sent less than 96 Bytes within 30 seconds",
// "if A sent more than 608 bytes" (same for B).
//
// So, per TCP connection opened by A: A's first run of bytes is 96..608, B's answer is 96..608,
// then A sends at least 20 + 20 + 8 + 4 + 2 + 2 = 56 bytes (PadC and IA may be empty). Every one of
// those bytes is a DH public key, random padding, a hash or RC4 output: they look uniformly random.
// The shape alone is a heuristic (obfs4 and other "look-like-nothing" transports share it), so the
// verdict is `.likelyMSE` with its evidence; MSECorroboration ties it to cleartext BitTorrent seen
// elsewhere in the capture before the flow layer names an infohash.
//
// Wiring: one detector per TCP flow, created with `sawConnectionStart: true` only when the SYN was
// seen (mid-stream flows have no first run to measure). Feed every payload segment in sequence
// order without retransmitted bytes, with its direction, until `verdict` is final; call `finish()`
// when the flow ends or is evicted. Through a proxy (TunnelDetector `.open` at the start of the
// connection), run a second detector on the tunnelled bytes with `sawConnectionStart: true` and
// `fromInitiator` = from the proxy client: the key exchange then starts at the first tunnelled byte.
// Suggested labelling (from `labellingEvidence`): `bittorrent-encrypted` with stepsMatched 3, or 1..2
// when MSECorroboration finds the responder; an infohash only from corroborating cleartext evidence.

import WireBytes

public struct MSEShapeDetector: Sendable {
    public private(set) var verdict: MSEVerdict
    /// Still measuring (`verdict` is `.undecided`).
    public var isUndecided: Bool {
        if case .undecided = verdict { return true }
        return false
    }

    /// Bytes per run: [A's DH, B's DH, A's bytes after the exchange]. Three stored values, not an
    /// array: an array is one more heap object per TCP flow being measured (issue 6).
    private var runBytes = RunLengths()
    /// The run receiving bytes: 0 (A: Ya+PadA), 1 (B: Yb+PadB), 2 (A: synchronisation, and on).
    private var run = 0
    /// The first bytes of each run, kept for the randomness test (three arrays, not an array of
    /// them: that was one more allocation per TCP flow measured, issue 6).
    private var samples = RunSamples()
    /// `finish()` found only the initiator's run, and it fits Ya + PadA.
    private var unanswered = false

    public init(sawConnectionStart: Bool) {
        verdict = sawConnectionStart ? .undecided(stepsMatched: 0) : .notMSE(.noConnectionStart)
    }

    /// Feeds one segment's payload (empty segments are ignored).
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, fromInitiator: Bool) {
        guard case .undecided = verdict, bytes.count > 0, advance(fromInitiator: fromInitiator) else { return }
        runBytes[run] += bytes.count
        let want = MSELimits.sampleLength(run: run) - samples[run].count
        if want > 0 {
            let sample = bytes.slice(0, want)
            if run < 2, samples[run].isEmpty, sample.count == want {
                // A DH run's whole sample in its first segment (the common case): tested in place, and
                // copied only while the run may still be Y + Pad (most flows are rejected here).
                if let why = MSEShape.nonRandom(sample) { return reject(why) }
                if runBytes[run] > MSELimits.maxDHRun { return reject(run == 0 ? .initiatorRunTooLong : .responderRunTooLong) }
                samples.append(sample, toRun: run)
            } else {
                samples.append(sample, toRun: run)
                // Test a DH run as soon as its first 96 bytes are in: random bulk data fails here early.
                if run < 2, samples[run].count == MSELimits.sampleLength(run: run), let why = MSEShape.nonRandom(samples[run]) {
                    return reject(why)
                }
            }
        }
        if run < 2, runBytes[run] > MSELimits.maxDHRun { return reject(run == 0 ? .initiatorRunTooLong : .responderRunTooLong) }
        if run == 2, runBytes[2] >= MSELimits.minSync {
            if let why = MSEShape.nonRandom(samples[2]) { return reject(why) }
            verdict = .likelyMSE(evidence(steps: 3))
        } else {
            verdict = .undecided(stepsMatched: run)
        }
    }

    /// Bytes the capture did not keep (cut by the snap length, or lost): the shape is about sizes, so
    /// they count in the run lengths; they cannot be sampled for the randomness test.
    public mutating func missing(_ count: Int, fromInitiator: Bool) {
        guard case .undecided = verdict, count > 0, advance(fromInitiator: fromInitiator) else { return }
        runBytes[run] += count
        if run < 2, runBytes[run] > MSELimits.maxDHRun { return reject(run == 0 ? .initiatorRunTooLong : .responderRunTooLong) }
        if run == 2, runBytes[2] >= MSELimits.minSync {
            if let why = MSEShape.nonRandom(samples[2]) { return reject(why) }
            verdict = .likelyMSE(evidence(steps: 3))
        }
    }

    /// Moves to the next run when the speaker changes; false when the flow was rejected or the
    /// bytes do not count (the responder talking during the initiator's synchronisation run).
    private mutating func advance(fromInitiator: Bool) -> Bool {
        switch (run, fromInitiator) {
        case (0, false):
            guard runBytes[0] > 0 else { reject(.responderSpokeFirst); return false }
            guard closeRun(0) else { return false }
            run = 1
        case (1, true):
            guard closeRun(1) else { return false }
            run = 2
        case (2, false):
            return false  // B may answer while A's synchronisation bytes arrive; only A's count matters
        default:
            break
        }
        return true
    }

    /// The flow ended: judge the run that was still open.
    public mutating func finish() {
        guard case .undecided = verdict else { return }
        switch run {
        case 0 where runBytes[0] > 0:
            if closeRun(0) { verdict = .undecided(stepsMatched: 1); unanswered = true }
        case 1:
            if closeRun(1) { verdict = .likelyMSE(evidence(steps: 2)) }
        case 2:
            if let why = MSEShape.nonRandom(samples[2]) { reject(why) } else { verdict = .likelyMSE(evidence(steps: 2)) }
        default:
            break
        }
    }

    /// What a flow layer labels from, once `finish()` was called: `.likelyMSE`'s evidence; or, when only
    /// the initiator spoke (Ya + PadA, 96...608 random bytes, then the connection closed unanswered: an
    /// MSE attempt the responder refused, as aria2 makes to peers without MSE), one step with score 40.
    /// Fewer than three steps must be corroborated (MSECorroboration) before any label.
    public var labellingEvidence: MSEEvidence? {
        if case .likelyMSE(let e) = verdict { return e }
        return unanswered ? evidence(steps: 1) : nil
    }

    /// Checks a finished DH run; false (and a rejection) when it cannot be Y + Pad.
    private mutating func closeRun(_ r: Int) -> Bool {
        let n = runBytes[r]
        if n < MSELimits.minDHRun { reject(r == 0 ? .initiatorRunTooShort : .responderRunTooShort); return false }
        if let why = MSEShape.nonRandom(samples[r]) { reject(why); return false }
        // Ethereum RLPx (EIP-8): auth/ack start with a 2-byte size equal to the rest of the message.
        if let prefix = samples[r].prefix(2).withUnsafeBytes({ $0.u16be(at: 0) }), Int(prefix) == n - 2 {
            reject(.rlpxLengthPrefix); return false
        }
        // Pre-EIP-8 RLPx: auth is exactly 307 bytes of ECIES, ack exactly 210 (devp2p rlpx.md).
        if r == 1, runBytes[0] == MSELimits.rlpxLegacyAuth, n == MSELimits.rlpxLegacyAck { reject(.rlpxLegacySizes); return false }
        return true
    }

    private mutating func reject(_ why: MSERejection) { verdict = .notMSE(why) }

    private func evidence(steps: Int) -> MSEEvidence {
        var reasons = ["initiator_dh_run_\(runBytes[0])", "responder_dh_run_\(runBytes[1])", "random_first_bytes"]
        if steps >= 3 { reasons.append("sync_run_ge_\(MSELimits.minSync)") }
        return MSEEvidence(stepsMatched: steps, initiatorDHBytes: runBytes[0], responderDHBytes: runBytes[1],
                           score: [0, 40, 60, 80][min(steps, 3)], reasons: reasons)
    }
}

/// The sampled first bytes of the three runs, indexed 0...2.
private struct RunSamples: Sendable {
    private var initiatorDH: [UInt8] = [], responderDH: [UInt8] = [], sync: [UInt8] = []
    subscript(run: Int) -> [UInt8] { run == 0 ? initiatorDH : run == 1 ? responderDH : sync }
    mutating func append(_ bytes: UnsafeRawBufferPointer, toRun run: Int) {
        if run == 0 { initiatorDH.append(contentsOf: bytes) } else if run == 1 { responderDH.append(contentsOf: bytes) } else { sync.append(contentsOf: bytes) }
    }
}

/// The byte counts of the three runs, indexed 0...2.
private struct RunLengths: Sendable {
    private var initiatorDH = 0, responderDH = 0, sync = 0
    subscript(run: Int) -> Int {
        get { run == 0 ? initiatorDH : run == 1 ? responderDH : sync }
        set { if run == 0 { initiatorDH = newValue } else if run == 1 { responderDH = newValue } else { sync = newValue } }
    }
}

public enum MSEVerdict: Hashable, Sendable {
    /// Not enough bytes yet; `stepsMatched` handshake steps (0...2) fit so far.
    case undecided(stepsMatched: Int)
    case likelyMSE(MSEEvidence)
    case notMSE(MSERejection)
}

public struct MSEEvidence: Hashable, Sendable {
    /// 1: only A's DH run, unanswered (`labellingEvidence` only); 2: both DH runs fit (the flow ended
    /// there); 3: and A sent a synchronisation run of >= 56 bytes.
    public var stepsMatched: Int
    public var initiatorDHBytes: Int
    public var responderDHBytes: Int
    /// 0...100, for ranking only: 40 for one step, 60 for two, 80 for three. Not a probability.
    public var score: Int
    /// Why, for reports: sorted by step.
    public var reasons: [String]
}

/// Why a flow is not MSE; raw values are for run summaries (DESIGN.md rule 4).
public enum MSERejection: String, Hashable, Sendable, CaseIterable {
    case noConnectionStart = "no_connection_start"
    case responderSpokeFirst = "responder_spoke_first"
    case initiatorRunTooShort = "initiator_run_lt_96"
    case initiatorRunTooLong = "initiator_run_gt_608"
    case responderRunTooShort = "responder_run_lt_96"
    case responderRunTooLong = "responder_run_gt_608"
    case bittorrentHandshake = "bittorrent_handshake"
    case tlsRecord = "tls_record"
    case sshBanner = "ssh_banner"
    case printableText = "printable_text"
    case structuredHeader = "structured_header"
    case lowEntropy = "low_entropy"
    case rlpxLengthPrefix = "rlpx_length_prefix"
    case rlpxLegacySizes = "rlpx_legacy_sizes"
}

public enum MSELimits {
    /// Ya/Yb are 768-bit (96-byte) DH values; PadA/PadB "0 to 512 bytes" (wiki above).
    public static let minDHRun = 96
    public static let maxDHRun = 96 + 512
    /// HASH('req1',S) 20 + HASH xor 20 + VC 8 + crypto_provide 4 + len(PadC) 2 + len(IA) 2.
    public static let minSync = 56
    /// Bytes of each run tested for randomness: a whole Ya/Yb, and the sync run's fixed part.
    static func sampleLength(run: Int) -> Int { run < 2 ? minDHRun : minSync }
    /// RLPx v4 (pre-EIP-8) auth and ack sizes, devp2p rlpx.md: 307 and 210 bytes.
    static let rlpxLegacyAuth = 307
    static let rlpxLegacyAck = 210
}
