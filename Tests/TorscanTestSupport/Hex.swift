// Test helpers: hex literals ("45 00 ..." with spaces/newlines), and locating shared corpora.
import Foundation

/// Bytes from a hex string; whitespace is ignored. Traps on bad input (tests only).
public func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) }
    precondition(digits.count % 2 == 0, "odd hex length")
    var out: [UInt8] = []
    var it = digits.makeIterator()
    while let a = it.next(), let b = it.next() {
        out.append(UInt8(String(a) + String(b), radix: 16)!)
    }
    return out
}

public enum TestPaths {
    /// The package root (two levels above this file's folder).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let sampleCaptures: URL = packageRoot.appendingPathComponent("SampleCaptures")
    /// ../shared/corpus/public beside the checkout (or $TORSCAN_PUBLIC_CORPUS, for a checkout elsewhere, such
    /// as a worktree), or nil (tests over it are then skipped, and say so).
    public static var publicCorpus: URL? {
        let url = ProcessInfo.processInfo.environment["TORSCAN_PUBLIC_CORPUS"].map { URL(fileURLWithPath: $0) }
            ?? packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/public")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
    /// Every regular file under `root`, sorted by path.
    public static func files(under root: URL) -> [URL] {
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var out: [URL] = []
        for case let u as URL in e where (try? u.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { out.append(u) }
        return out.sorted { $0.path < $1.path }
    }
}
