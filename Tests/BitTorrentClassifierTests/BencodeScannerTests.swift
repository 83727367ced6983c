import Testing
import BitTorrentClassifier

@Suite struct BencodeScannerTests {
    func scan(_ text: String, limits: BencodeLimits = .datagram) -> Result<(BencodeKind, Range<Int>), BencodeError> {
        withBencodeTestBytes(Array(ascii: text)) { b in
            do throws(BencodeError) {
                let item = try BencodeScanner.document(b, limits: limits)
                return .success((item.kind, item.range))
            } catch { return .failure(error) }
        }
    }

    @Test(arguments: [
        ("i0e", BencodeKind.integer), ("i-3e", .integer), ("i9223372036854775807e", .integer), ("i-9223372036854775808e", .integer),
        ("0:", .string), ("4:spam", .string), ("le", .list), ("l4:spami42ee", .list), ("de", .dictionary),
        ("d3:cow3:moo4:spam4:eggse", .dictionary), ("d4:spaml1:a1:bee", .dictionary),
        ("d1:zi1e1:ai2ee", .dictionary),   // unsorted keys are accepted: real clients send them
    ])
    func acceptsValid(text: String, kind: BencodeKind) throws {
        let r = try scan(text).get()
        #expect(r.0 == kind)
        #expect(r.1 == 0..<text.utf8.count)
    }

    // Exact typed errors: malformed vs need-more, with the offset of the offending byte.
    @Test(arguments: [
        ("i-0e", BencodeError.Reason.nonCanonicalInteger, 2), ("i03e", .nonCanonicalInteger, 1), ("ie", .nonCanonicalInteger, 1),
        ("i-e", .nonCanonicalInteger, 2), ("i1x2e", .nonCanonicalInteger, 2), ("i+1e", .nonCanonicalInteger, 1),
        ("i9223372036854775808e", .integerTooLong, 1), ("i12345678901234567890e", .integerTooLong, 20),
        ("01:a", .badStringLength, 0), ("1x:a", .badStringLength, 1), ("x", .unexpectedByte, 0),
        ("di1ei2ee", .nonStringKey, 1), ("dxe", .unexpectedByte, 1), ("i1ee", .trailingBytes, 3),
        ("", .needMore, 0), ("i12", .needMore, 3), ("5:ab", .needMore, 4), ("l4:spam", .needMore, 7),
        ("d3:cow", .needMore, 6), ("d3:cow3:moo", .needMore, 11), ("12345", .needMore, 5),
    ])
    func rejectsWithExactError(text: String, reason: BencodeError.Reason, offset: Int) {
        guard case .failure(let e) = scan(text) else { Issue.record("accepted \(text)"); return }
        #expect(e == BencodeError(reason, at: offset))
    }

    @Test func enforcesLimits() {
        let deep = String(repeating: "l", count: 17) + String(repeating: "e", count: 17)
        #expect(scan(deep).failureReason == .tooDeep)
        #expect((try? scan(String(repeating: "l", count: 16) + String(repeating: "e", count: 16)).get()) != nil)
        let many = "l" + String(repeating: "i1e", count: 4_096) + "e"   // 4097 items with the list
        #expect(scan(many).failureReason == .tooManyItems)
        let small = BencodeLimits(maxDepth: 4, maxStringLength: 3, maxItems: 10)
        #expect(scan("4:spam", limits: small).failureReason == .stringTooLong)
        // A huge declared length is rejected as too long before any read, not reported as need-more.
        #expect(scan("9999999999:x").failureReason == .stringTooLong)
        #expect(scan("99999999999:x").failureReason == .badStringLength)
    }

    @Test func navigatesWithoutATree() throws {
        let text = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:v4:UT011:y1:qe"
        try withBencodeTestBytes(Array(ascii: text)) { b in
            let root = try BencodeScanner.document(b, limits: .datagram)
            #expect(root.count == 5)
            #expect(root["q"]?.isString("find_node") == true)
            #expect(root["a"]?["id"]?.stringLength == 20)
            #expect(root["missing"] == nil)
            var keys: [String] = []
            for (k, _) in root.entries { keys.append(k.string() ?? "") }
            #expect(keys == ["a", "q", "t", "v", "y"])
            #expect(root["a"]?["target"]?.string() == "mnopqrstuvwxyz123456")
        }
        try withBencodeTestBytes(Array(ascii: "li-42ei7e3:abce")) { b in
            let list = try BencodeScanner.document(b, limits: .datagram)
            let values = list.elements.map { $0.integer }
            #expect(values == [-42, 7, nil])
            #expect(list.firstElement?.integer == -42)
            #expect(list["x"] == nil)          // lookup on a list: nothing
            #expect(list.elements.map { $0.kind } == [.integer, .integer, .string])
        }
    }

    @Test func valueStopsAtItsEnd() throws {
        // ut_metadata data messages append raw bytes after the dictionary.
        try withBencodeTestBytes(Array(ascii: "d1:ai1eeRAW")) { b in
            let item = try BencodeScanner.value(in: b, limits: .datagram)
            #expect(item.end == 8)
            #expect(throws: BencodeError(.trailingBytes, at: 8)) { try BencodeScanner.document(b, limits: .datagram) }
        }
    }

    /// Every prefix of a valid document is need-more; no prefix is accepted.
    @Test func truncationSweep() {
        let docs = ["d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", "li-42e4:spamd1:xleee", "i123e"]
        for doc in docs {
            let bytes = Array(ascii: doc)
            for n in 0..<bytes.count {
                let r = scan(String(decoding: bytes.prefix(n), as: UTF8.self))
                #expect(r.failureReason == .needMore, "prefix \(n) of \(doc)")
            }
        }
    }
}

extension Result where Failure == BencodeError {
    var failureReason: BencodeError.Reason? { if case .failure(let e) = self { e.reason } else { nil } }
}
