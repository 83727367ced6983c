// The run manifest (chain of custody, issue 8): which files went in (path, size, SHA-256, time span,
// packets), which torscan and classifier produced the result, with which options, when, and the SHA-256
// of every report written. `--manifest FILE` writes it as JSON; the XLSX workbook shows it as a sheet.
// The run's start and end live only here, never in a report, so reports stay byte-identical run to run.
import Foundation
import Crypto
import WireBytes
import BitTorrentClassifier

/// One capture file read by the run (filled by the pipeline from its capture reader).
public struct InputRecord: Sendable, Equatable {
    public var path: String
    public var size: Int64
    /// Lowercase hex SHA-256 of the file's bytes as stored (compressed files: of the compressed bytes).
    public var sha256: String
    /// Timestamps of the first and last frame; nil for a capture without frames.
    public var firstSeen: Timestamp?
    public var lastSeen: Timestamp?
    public var packets: Int

    public init(path: String, size: Int64, sha256: String, firstSeen: Timestamp?, lastSeen: Timestamp?, packets: Int) {
        self.path = path; self.size = size; self.sha256 = sha256
        self.firstSeen = firstSeen; self.lastSeen = lastSeen; self.packets = packets
    }
}

/// One file the run wrote (`report`, `workbook`, ...), hashed after it was written.
public struct OutputRecord: Sendable, Equatable {
    public var role: String
    public var path: String
    public var size: Int64
    public var sha256: String

    public init(role: String, path: String, size: Int64, sha256: String) {
        self.role = role; self.path = path; self.size = size; self.sha256 = sha256
    }

    /// Hashes the file at `path` as it is now on disk.
    public init(role: String, path: String) throws {
        let (size, digest) = try FileDigest.sha256(path: path)
        self.init(role: role, path: path, size: size, sha256: digest)
    }
}

public struct RunManifest: Sendable, Equatable {
    public var torscanVersion = BuildInfo.version
    public var gitCommit = BuildInfo.gitCommit
    public var classifierVersion = ClassifierVersion.version
    /// The options as torscan understood them (normalised: defaults spelled out, in a fixed order).
    public var options: [String]
    public var inputs: [InputRecord]
    public var outputs: [OutputRecord] = []
    public var started: Timestamp?
    public var ended: Timestamp?

    public init(options: [String], inputs: [InputRecord], started: Timestamp? = nil, ended: Timestamp? = nil) {
        self.options = options; self.inputs = inputs; self.started = started; self.ended = ended
    }

    /// Records a written report: its path, size and SHA-256 as it is on disk now.
    public mutating func addOutput(role: String, path: String) throws {
        outputs.append(try OutputRecord(role: role, path: path))
    }

    /// The manifest as JSON. A report that embeds it (the JSON evidence report) leaves the run times out
    /// (`includeRunTimes: false`) so that it stays byte-identical between runs.
    public func json(includeRunTimes: Bool = true, fractionDigits: Int = 6) -> JSONValue {
        func time(_ t: Timestamp?) -> JSONValue { .optional(t?.rfc3339(fractionDigits: fractionDigits)) }
        var pairs: [(String, JSONValue)] = [
            ("torscan", .object([
                ("version", .string(torscanVersion)),
                ("git_commit", .string(gitCommit)),
                ("classifier_version", .string(classifierVersion)),
            ])),
            ("options", .array(options.map { .string($0) })),
        ]
        if includeRunTimes { pairs.append(("run", .object([("started", time(started)), ("ended", time(ended))]))) }
        pairs += [
            ("inputs", .array(inputs.map { i in
                .object([
                    ("path", .string(i.path)), ("size", .int(i.size)), ("sha256", .string(i.sha256)),
                    ("first_seen", time(i.firstSeen)), ("last_seen", time(i.lastSeen)), ("packets", .int(i.packets)),
                ])
            })),
            ("outputs", .array(outputs.map { o in
                .object([("role", .string(o.role)), ("path", .string(o.path)), ("size", .int(o.size)), ("sha256", .string(o.sha256))])
            })),
        ]
        return .object(pairs)
    }

    /// Key/value rows for the workbook's manifest sheet. The run's start and end are left out unless asked
    /// for, so that the workbook, a report, stays byte-identical between runs.
    public func keyValueRows(includeRunTimes: Bool = false, fractionDigits: Int = 6) -> [(String, String)] {
        func time(_ t: Timestamp?) -> String { t?.rfc3339(fractionDigits: fractionDigits) ?? "" }
        var rows: [(String, String)] = [
            ("torscan_version", torscanVersion),
            ("git_commit", gitCommit),
            ("classifier_version", classifierVersion),
            ("options", options.map(RunManifest.shellQuoted).joined(separator: " ")),
        ]
        if includeRunTimes { rows += [("run_started", time(started)), ("run_ended", time(ended))] }
        for (n, i) in inputs.enumerated() {
            let k = "input_\(n + 1)_"
            rows += [
                (k + "path", i.path), (k + "size", String(i.size)), (k + "sha256", i.sha256),
                (k + "first_seen", time(i.firstSeen)), (k + "last_seen", time(i.lastSeen)), (k + "packets", String(i.packets)),
            ]
        }
        for o in outputs {
            let k = "output_\(o.role)_"
            rows += [(k + "path", o.path), (k + "size", String(o.size)), (k + "sha256", o.sha256)]
        }
        return rows
    }

    /// Writes the manifest as indented JSON, atomically.
    public func write(to path: String, fractionDigits: Int = 6) throws(AtomicFileError) {
        try AtomicFile.write(Data((json(fractionDigits: fractionDigits).serialized(pretty: true) + "\n").utf8), to: path)
    }

    /// An argument as a POSIX shell would need it typed: bare when it is only safe characters, else single-quoted.
    static func shellQuoted(_ arg: String) -> String {
        let safe = arg.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || "-_./=:,+@%".utf8.contains(c)
        }
        return safe && !arg.isEmpty ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Wall-clock now (UTC), for `started` and `ended`.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanos: Int64(ts.tv_nsec))
    }
}

public enum FileDigestError: Error, CustomStringConvertible {
    case cannotRead(path: String, reason: String)
    public var description: String {
        switch self { case .cannotRead(let p, let r): "cannot read \(p): \(r)" }
    }
}

public enum FileDigest {
    /// Read size per step: large enough for sequential throughput, small enough to keep memory flat.
    static let chunkSize = 1 << 20

    /// Size and lowercase hex SHA-256 of a file, read in chunks (captures can be many GB).
    public static func sha256(path: String) throws(FileDigestError) -> (size: Int64, hex: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .cannotRead(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var size: Int64 = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            size += Int64(n)
        }
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
