// Runs python3 scripts for oracle tests (openpyxl reading a workbook, libtorrent making torrents).
// Tests that need a module say they are skipped when no interpreter has it (Scripts/setup installs them).
import Foundation

public enum Python {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The first of `python3` on PATH and Debian's /usr/bin/python3 that can import `module`.
    public static func interpreter(with module: String) -> String? {
        ["python3", "/usr/bin/python3"].first { (try? run($0, "import " + module)) != nil }
    }

    /// Runs `script` with `args`; returns its standard output, or throws with its standard error.
    public static func run(_ python: String, _ script: String, _ args: [String] = []) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", script] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure(description: "\(python) exited \(p.terminationStatus): \(errText)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// A new empty directory under the system's temporary directory.
    public static func temporaryDirectory(_ prefix: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
