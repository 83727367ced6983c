// `torscan info FILE...`: what is in capture files, like capinfos (DESIGN.md "Users").
import ArgumentParser
import TorscanCore
#if canImport(Glibc)
import Glibc
#endif

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe capture files: format, link types, time span, packets, damage, SHA-256.",
        discussion: "Exit status: 0 every file read whole; 3 some file damaged or unreadable; 66 no file could be read."
    )

    @Argument(help: "Capture files or directories (walked recursively); - reads standard input.")
    var inputs: [String]

    @Flag(name: .long, help: "A JSON array, one object per file.")
    var json = false

    @Flag(name: .long, help: "Do not compute the SHA-256 (faster; for throughput runs).")
    var noHash = false

    func run() throws {
        let status = CaptureInfoReport.run(
            paths: inputs, options: .init(json: json, hashing: !noHash),
            out: { print($0, terminator: "") },
            err: { line in
                let s = line + "\n"
                _ = s.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            })
        if status != .success { throw ExitCode(status.rawValue) }
    }
}
