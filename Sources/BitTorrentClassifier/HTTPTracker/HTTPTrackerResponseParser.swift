// Tracker answers (BEP 3, 23, 7, 48; quoted in HTTPTrackerDetector.swift): `HTTP/1.x 200`, headers,
// then a bencoded dictionary with `failure reason`, or `interval` and `peers`/`peers6` (announce), or
// `files` (scrape).
import WireBytes

enum HTTPTrackerResponseParser {
    /// Longest `failure reason` kept.
    static let maximumFailureReasonLength = 1_024

    static func inspect<S: ClassifierSink>(_ bytes: UnsafeRawBufferPointer, sink: inout S) -> ProbeResult {
        // "HTTP/1.x 200 "
        guard bytes.count >= 12 else { return bytes.isPrefix(of: "HTTP/1.") || bytes.matches("HTTP/1.") ? .needMore : .noMatch }
        guard bytes.matches("HTTP/1."), bytes.u8(at: 8) == UInt8(ascii: " ") else { return .noMatch }
        guard bytes.matches("200", at: 9) else { return .noMatch }
        guard let headerEnd = headerBlockEnd(bytes) else {
            return bytes.count < HTTPTrackerDetector.maximumResponseHeaderLength ? .needMore : .noMatch
        }
        var contentLength: Int?
        var chunked = false
        var start = 0
        while let end = bytes.firstOffset(of: UInt8(ascii: "\n"), from: start, limit: headerEnd) {
            let line = bytes.slice(start, end - start)
            if line.hasPrefixIgnoringCase("content-length:") {
                contentLength = HTTPTrackerRequestParser.decimal(line.slice(15, line.count - 15).trimmingHTTPSpace()).flatMap { Int(exactly: $0) }
            } else if line.hasPrefixIgnoringCase("content-encoding:") {
                let value = line.slice(17, line.count - 17).trimmingHTTPSpace()
                guard value.isEmpty || value.hasPrefixIgnoringCase("identity") else { return .noMatch }
            } else if line.hasPrefixIgnoringCase("transfer-encoding:") {
                chunked = line.slice(18, line.count - 18).trimmingHTTPSpace().hasPrefixIgnoringCase("chunked")
            }
            start = end + 1
        }
        var body = bytes.slice(headerEnd, bytes.count - headerEnd)
        var complete = false
        if chunked {
            // Only the first chunk is read: tracker answers are small and sent in one chunk.
            guard let lineEnd = body.firstOffset(of: UInt8(ascii: "\n"), from: 0, limit: 18) else {
                return body.count < 18 ? .needMore : .noMatch
            }
            guard let size = hexNumber(body.slice(0, lineEnd).trimmingHTTPSpace()) else { return .noMatch }
            let data = body.slice(lineEnd + 1, body.count - lineEnd - 1)
            complete = data.count >= size
            body = data.slice(0, size)
        } else if let length = contentLength {
            complete = body.count >= length
            body = body.slice(0, length)
        }
        return inspectBody(body, complete: complete, sink: &sink)
    }

    static func inspectBody<S: ClassifierSink>(_ body: UnsafeRawBufferPointer, complete: Bool, sink: inout S) -> ProbeResult {
        guard let first = body.u8(at: 0) else { return complete ? .noMatch : .needMore }
        guard first == UInt8(ascii: "d") else { return .noMatch }
        let dict: BencodeItem
        do throws(BencodeError) {
            dict = try BencodeScanner.value(in: body, limits: .datagram)
        } catch {
            let canGrow = !complete && body.count < HTTPTrackerDetector.maximumResponseBodyLength
            return error.isNeedMore && canGrow ? .needMore : .noMatch
        }
        var peers = 0
        var interval: Int?
        var failure: String?
        var hasPeers = false, isScrape = false, broken = false
        for (key, value) in dict.entries {
            if key.isString("failure reason") {
                failure = value.string(maxBytes: maximumFailureReasonLength)
            } else if key.isString("interval") {
                interval = value.integer(in: 0...Int64(Int32.max))
            } else if key.isString("peers") {
                hasPeers = true
                if let compact = value.stringLength {
                    if compact % 6 == 0 { peers += compact / 6 } else { broken = true }
                } else {
                    for peer in value.elements where peer.kind == .dictionary { peers += 1 }
                }
            } else if key.isString("peers6") {
                hasPeers = true
                if let compact = value.stringLength, compact % 18 == 0 { peers += compact / 18 } else { broken = true }
            } else if key.isString("files") {
                isScrape = value.kind == .dictionary
            }
        }
        if broken {
            sink.receive(.malformed(.httpTrackerBadResponse))
            return .noMatch
        }
        guard failure != nil || isScrape || (interval != nil && hasPeers) else { return .noMatch }
        sink.receive(.httpTrackerResponse(peers: peers, interval: interval, failure: failure))
        return .match
    }

    /// Offset just past the blank line that ends the header block.
    static func headerBlockEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let stop = min(bytes.count, HTTPTrackerDetector.maximumResponseHeaderLength)
        while let nl = bytes.firstOffset(of: UInt8(ascii: "\n"), from: i, limit: stop) {
            if bytes.u8(at: nl + 1) == UInt8(ascii: "\n") { return nl + 2 }
            if bytes.u8(at: nl + 1) == UInt8(ascii: "\r"), bytes.u8(at: nl + 2) == UInt8(ascii: "\n") { return nl + 3 }
            i = nl + 1
        }
        return nil
    }

    static func hexNumber(_ digits: UnsafeRawBufferPointer) -> Int? {
        guard !digits.isEmpty, digits.count <= 8 else { return nil }
        var v = 0
        for c in digits {
            guard let d = HTTPTrackerRequestParser.hexValue(c) else { return nil }
            v = v << 4 | Int(d)
        }
        return v
    }
}
