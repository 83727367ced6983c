// Entry point of the FuzzBencode libFuzzer target (replayed by FuzzReplayTests): the whole input is
// scanned with both BencodeLimits presets, then every validated value is walked with the navigation
// API (entries, elements, subscripts, integers, strings) and its offsets are checked.
import BitTorrentClassifier
import WireBytes

/// Scans and walks one input. Returns the number of items visited (0 when neither preset accepts it).
@discardableResult
public func bencodeFuzzInput(_ bytes: UnsafeRawBufferPointer) -> Int {
    var visited = 0
    var datagramEnd: Int?
    do throws(BencodeError) {
        let item = try BencodeScanner.value(in: bytes, limits: .datagram)
        datagramEnd = item.end
        visited += walk(item, in: bytes, depth: 1)
    } catch {
        precondition(error.offset >= 0 && error.offset <= bytes.count, "error offset outside the input")
    }
    do throws(BencodeError) {
        let item = try BencodeScanner.value(in: bytes, limits: .metainfo)
        // .metainfo is looser than .datagram in every limit, so it accepts whatever .datagram accepts, identically.
        if let e = datagramEnd { precondition(e == item.end, "the presets disagree on where a value ends") }
        visited += walk(item, in: bytes, depth: 1)
        let whole = try? BencodeScanner.document(bytes, limits: .metainfo)
        precondition((whole != nil) == (item.end == bytes.count), "document() must accept exactly one value and nothing after it")
    } catch {
        precondition(datagramEnd == nil, ".metainfo rejected what .datagram accepted: \(error.reason)")
        precondition(error.offset >= 0 && error.offset <= bytes.count, "error offset outside the input")
    }
    // A value starting inside the input (the scanner takes an offset, e.g. after a ut_metadata header).
    if bytes.count > 1, let item = try? BencodeScanner.value(in: bytes, at: 1, limits: .datagram) {
        precondition(item.start == 1)
        visited += walk(item, in: bytes, depth: 1)
    }
    return visited
}

/// Walks a validated value and its children, checking that every child lies inside its parent and
/// that children tile the container. Returns the number of items visited.
private func walk(_ item: BencodeItem, in bytes: UnsafeRawBufferPointer, depth: Int) -> Int {
    precondition(depth <= BencodeLimits.metainfo.maxDepth + 1)
    precondition(item.start >= 0 && item.start < item.contentStart && item.contentStart <= item.end && item.end <= bytes.count)
    precondition(item.encoded.count == item.end - item.start)
    var visited = 1
    switch item.kind {
    case .integer:
        precondition(item.integer != nil && item.stringBytes == nil && item.count == 0)
        let digits = bytes.slice(item.contentStart, item.end - item.contentStart - 1)
        precondition(digits.count >= 1 && bytes.u8(at: item.end - 1) == UInt8(ascii: "e"))
        if let v = item.integer { precondition((v < 0) == (digits.first == UInt8(ascii: "-"))) }
    case .string:
        precondition(item.stringLength == item.end - item.contentStart && item.integer == nil)
        precondition(bytes.u8(at: item.contentStart - 1) == UInt8(ascii: ":"))
        _ = item.string(maxBytes: 64)
    case .list:
        var next = item.contentStart
        for element in item.elements {
            precondition(element.start == next, "list elements must tile the list")
            next = element.end
            visited += walk(element, in: bytes, depth: depth + 1)
        }
        precondition(next == item.end - 1 && bytes.u8(at: next) == UInt8(ascii: "e"))
        precondition(isEmpty(item.entries))
        if let first = item.firstElement { precondition(first.start == item.contentStart) }
    case .dictionary:
        var next = item.contentStart
        var n = 0
        for (key, value) in item.entries {
            precondition(key.kind == .string, "dictionary keys are strings")
            precondition(key.start == next && value.start == key.end, "entries must tile the dictionary")
            next = value.end
            n += 1
            visited += walk(key, in: bytes, depth: depth + 1) + walk(value, in: bytes, depth: depth + 1)
        }
        precondition(next == item.end - 1 && bytes.u8(at: next) == UInt8(ascii: "e"))
        precondition(n == item.count && isEmpty(item.elements))
        // Lookups used by the detectors return entries of this dictionary.
        for v in [item["info"], item["y"], item["a"], item["r"], item["m"]] {
            if let v { precondition(v.start > item.start && v.end < item.end) }
        }
    }
    return visited
}

private func isEmpty<S: Sequence>(_ s: S) -> Bool {
    var it = s.makeIterator()
    return it.next() == nil
}
