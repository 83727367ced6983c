// Announce and scrape requests (BEP 3, BEP 48; see HTTPTrackerDetector.swift for the quoted spec).
// Query values are percent-encoded (RFC 3986 section 2.1); binary values (info_hash, peer_id) are
// decoded into a stack buffer, so a request costs no allocation until it is emitted.
import WireBytes

enum HTTPTrackerRequestParser {
    static func inspect<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        // "GET " then the request target; a shorter prefix of "GET " may still become one.
        let method: StaticString = "GET "
        guard bytes.count >= method.utf8CodeUnitCount else {
            return bytes.isPrefix(of: method) ? .needMore : .noMatch
        }
        guard bytes.matches(method) else { return .noMatch }
        guard let lineEnd = bytes.firstOffset(of: UInt8(ascii: "\n"), from: 0, limit: HTTPTrackerDetector.maximumRequestLineLength) else {
            return bytes.count < HTTPTrackerDetector.maximumRequestLineLength ? .needMore : .noMatch
        }
        var lineStop = lineEnd
        if lineStop > 0, bytes.u8(at: lineStop - 1) == UInt8(ascii: "\r") { lineStop -= 1 }
        // Request line: GET SP target SP HTTP/1.x
        guard let targetEnd = bytes.firstOffset(of: UInt8(ascii: " "), from: 4, limit: lineStop),
              bytes.matches("HTTP/1.", at: targetEnd + 1) else { return .noMatch }
        let target = bytes.slice(4, targetEnd - 4)
        guard let queryStart = target.firstOffset(of: UInt8(ascii: "?"), from: 0, limit: target.count) else { return .noMatch }
        let path = target.slice(0, queryStart)
        let query = target.slice(queryStart + 1, target.count - queryStart - 1)
        return emit(path: path, query: query, headers: bytes.slice(lineEnd + 1, bytes.count - lineEnd - 1), sink: &sink)
    }

    /// A request line cut short (by the snap length, or a hole in the capture): only parameters that end
    /// before the cut, i.e. before the query's last `&`, are read, so no value is ever a truncated one.
    static func inspectCut<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        guard bytes.matches("GET ") else { return .noMatch }
        if bytes.firstOffset(of: UInt8(ascii: "\n"), from: 0, limit: bytes.count) != nil { return inspect(bytes, sink: &sink) }
        let end = bytes.firstOffset(of: UInt8(ascii: " "), from: 4, limit: bytes.count) ?? bytes.count
        let target = bytes.slice(4, end - 4)
        guard let queryStart = target.firstOffset(of: UInt8(ascii: "?"), from: 0, limit: target.count) else { return .noMatch }
        let query = target.slice(queryStart + 1, target.count - queryStart - 1)
        // With the line end present (`end` < count) the query is whole; otherwise drop its last parameter.
        var complete = query.count
        if end == bytes.count {
            var k = query.count - 1
            while k >= 0, query.u8(at: k) != UInt8(ascii: "&") { k -= 1 }
            guard k > 0 else { return .noMatch }
            complete = k
        }
        return emit(path: target.slice(0, queryStart), query: query.slice(0, complete), headers: UnsafeRawBufferPointer(start: nil, count: 0), sink: &sink)
    }

    private static func emit<S: ClassifierSink>(path: UnsafeRawBufferPointer, query: UnsafeRawBufferPointer,
                                                headers: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        var request = HTTPTrackerRequest(kind: isScrapePath(path) ? .scrape : .announce, infoHashes: [])
        var badInfoHash = false
        var hasPiece = false
        var hasPeerID = false
        forEachParameter(query) { key, value in
            if key.bytesEqual("info_hash") {
                guard request.infoHashes.count < HTTPTrackerDetector.maximumInfoHashesPerRequest else { return }
                if let h = percentDecoded20(value, make: { InfoHash(bytes: $0) }) { request.infoHashes.append(h) } else { badInfoHash = true }
            } else if key.bytesEqual("peer_id") {
                hasPeerID = true
                request.peerID = percentDecoded20(value, make: { PeerID(bytes: $0) })
            } else if key.bytesEqual("port") {
                request.port = decimal(value).flatMap { $0 >= 1 && $0 <= 65_535 ? UInt16($0) : nil }
            } else if key.bytesEqual("event") {
                if value.count <= 16 { request.event = String(decoding: value, as: UTF8.self) }
            } else if key.bytesEqual("uploaded") {
                request.uploaded = decimal(value)
            } else if key.bytesEqual("downloaded") {
                request.downloaded = decimal(value)
            } else if key.bytesEqual("left") {
                request.left = decimal(value)
            } else if key.bytesEqual("piece") {
                hasPiece = true
            }
        }
        if badInfoHash { sink.receive(.malformed(.httpTrackerBadInfoHash)) }
        guard let first = request.infoHashes.first else { return .noMatch }
        if WebSeed.isHTTPSeedRequest(hasPiece: hasPiece, hasPeerID: hasPeerID) {
            sink.receive(.webSeedRequest(path: String(decoding: path, as: UTF8.self), infoHash: first))
            return .match
        }
        request.userAgent = userAgent(in: headers)
        sink.receive(.httpTrackerRequest(request))
        return .match
    }

    /// BEP 48: the last path segment starts with "scrape".
    static func isScrapePath(_ path: UnsafeRawBufferPointer) -> Bool {
        var lastSlash = -1
        for i in 0..<path.count where path[i] == UInt8(ascii: "/") { lastSlash = i }
        return path.matches("scrape", at: lastSlash + 1)
    }

    /// Calls `body(key, value)` for each `key=value` of a query (raw, still percent-encoded).
    static func forEachParameter(_ query: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= query.count {
            let end = query.firstOffset(of: UInt8(ascii: "&"), from: start, limit: query.count) ?? query.count
            let pair = query.slice(start, end - start)
            if let eq = pair.firstOffset(of: UInt8(ascii: "="), from: 0, limit: pair.count) {
                body(pair.slice(0, eq), pair.slice(eq + 1, pair.count - eq - 1))
            }
            start = end + 1
        }
    }

    /// Percent-decodes exactly 20 bytes on the stack and builds a value from them; nil otherwise.
    static func percentDecoded20<T>(_ encoded: UnsafeRawBufferPointer, make: (UnsafeRawBufferPointer) -> T?) -> T? {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 8) { out -> T? in
            var n = 0, i = 0
            while i < encoded.count {
                guard n < 20 else { return nil }
                var c = encoded[i]
                if c == UInt8(ascii: "%") {
                    guard let hi = encoded.u8(at: i + 1).flatMap(hexValue), let lo = encoded.u8(at: i + 2).flatMap(hexValue) else { return nil }
                    c = hi << 4 | lo
                    i += 3
                } else {
                    i += 1
                }
                out[n] = c
                n += 1
            }
            guard n == 20 else { return nil }
            return make(UnsafeRawBufferPointer(out))
        }
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - 55
        default: nil
        }
    }

    /// A non-negative decimal that fits UInt64 (at most 20 digits), else nil.
    static func decimal(_ digits: UnsafeRawBufferPointer) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var v: UInt64 = 0
        for c in digits {
            guard c >= 48, c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(c - 48))
            guard !o1, !o2 else { return nil }
            v = s
        }
        return v
    }

    /// The User-Agent header among the complete header lines present.
    static func userAgent(in headers: UnsafeRawBufferPointer) -> String? {
        var start = 0
        while let end = headers.firstOffset(of: UInt8(ascii: "\n"), from: start, limit: headers.count) {
            let line = headers.slice(start, end - start)
            if line.count <= 1 { return nil }   // blank line: end of headers
            if line.hasPrefixIgnoringCase("user-agent:") {
                var v = line.slice(11, line.count - 11)
                v = v.trimmingHTTPSpace()
                return String(decoding: v.slice(0, HTTPTrackerDetector.maximumUserAgentLength), as: UTF8.self)
            }
            start = end + 1
        }
        return nil
    }
}

