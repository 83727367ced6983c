// Expanding command-line inputs: files as given, directories walked recursively in a stable
// (byte-wise sorted) order, keeping only files whose first bytes are a capture or compressed magic.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct CaptureInputError: Error, CustomStringConvertible {
    public var path: String
    public var detail: String
    public var description: String { "\(path): \(detail)" }
}

public enum CaptureInputs {
    /// Paths named explicitly are kept as they are (errors appear when opened); "-" is stdin.
    public static func expand(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        for p in paths {
            var st = stat()
            if p != "-", stat(p, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                var found: [String] = []
                try walk(p, into: &found)
                out += found.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            } else {
                out.append(p)
            }
        }
        return out
    }

    private static func walk(_ dir: String, into found: inout [String]) throws {
        guard let d = opendir(dir) else {
            throw CaptureInputError(path: dir, detail: "cannot list directory: " + String(cString: strerror(errno)))
        }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: try walk(path, into: &found)
            case S_IFREG: if looksLikeCapture(path) { found.append(path) }
            default: continue   // symlinks are not followed: no cycles
            }
        }
    }

    /// pcap/pcapng magic, or gzip/zstd (checked again after decompression when opened).
    static func looksLikeCapture(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }  // let the open report why it is unreadable
        defer { close(fd) }
        var head = (UInt64(0), UInt64(0))
        let n = read(fd, &head, 16)
        guard n > 0 else { return false }
        return withUnsafeBytes(of: &head) { raw in
            let b = UnsafeRawBufferPointer(rebasing: raw[0..<n])
            return FormatSniffer.format(of: b) != nil || FormatSniffer.compression(of: b) != .none
        }
    }
}
