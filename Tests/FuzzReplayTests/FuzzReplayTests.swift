// Replays every fuzz corpus input and every input that ever crashed (Fuzz/Corpus/<target>/*,
// Fuzz/FailCases/<target>/*) through the same entry points as the libFuzzer targets, in plain `swift test`.
import Foundation
import Testing
import FuzzEntryPoints
import TorscanTestSupport

@Suite struct FuzzReplayTests {
    static let fuzzRoot = TestPaths.packageRoot.appendingPathComponent("Fuzz")

    static func inputs(_ folder: String, _ target: String) -> [URL] {
        TestPaths.files(under: fuzzRoot.appendingPathComponent(folder).appendingPathComponent(target))
            .filter { !$0.lastPathComponent.hasPrefix(".") && $0.pathExtension != "md" }
    }

    @Test func decodeCorpusReplays() throws {
        let files = Self.inputs("Corpus", "FuzzDecode")
        #expect(files.count >= 20, "seed corpus missing")
        var frames = 0
        for f in files {
            let data = try Data(contentsOf: f)
            frames += data.withUnsafeBytes { decodeFuzzInput($0) }
        }
        #expect(frames >= files.count)
    }

    @Test func decodeFailCasesReplay() throws {
        for f in Self.inputs("FailCases", "FuzzDecode") {
            let data = try Data(contentsOf: f)
            _ = data.withUnsafeBytes { decodeFuzzInput($0) }
        }
    }

    @Test(arguments: ["FuzzPcap", "FuzzPcapNG"])
    func captureCorpusReplays(target: String) throws {
        let files = Self.inputs("Corpus", target) + Self.inputs("FailCases", target)
        #expect(files.count >= 8, "seed corpus missing")
        var records = 0
        for f in files {
            let data = try Data(contentsOf: f)
            records += data.withUnsafeBytes { readCaptureFuzzInput($0) }
        }
        #expect(records > 0)
    }

    @Test func captureInputThatIsNoCapture() {
        #expect([UInt8]().withUnsafeBytes { readCaptureFuzzInput($0) } == 0)
        #expect([UInt8](repeating: 0x41, count: 100).withUnsafeBytes { readCaptureFuzzInput($0) } == 0)
    }

    @Test func inputLayout() {
        // Selector 0 = Ethernet; one frame of 3 bytes, then a frame whose declared length overruns (takes the rest).
        let input: [UInt8] = [0, 0, 3, 1, 2, 3, 0xff, 0xff, 9, 9]
        #expect(input.withUnsafeBytes { decodeFuzzInput($0) } == 2)
        #expect([UInt8]().withUnsafeBytes { decodeFuzzInput($0) } == 0)
        // Found by the first fuzz run: a single byte after the selector has no room for a length field and used
        // to loop forever in the harness (the decoder itself was fine).
        #expect([UInt8]([5, 0x45]).withUnsafeBytes { decodeFuzzInput($0) } == 1)
        #expect([UInt8]([0, 0, 1, 7, 9]).withUnsafeBytes { decodeFuzzInput($0) } == 2)
    }
}
