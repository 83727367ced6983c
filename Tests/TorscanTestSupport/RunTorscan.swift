// Runs the built `torscan` binary (built by `swift build --build-tests`, which Scripts/test runs
// first) the way a user does, and captures its output and exit status.
import Foundation

public struct ToolRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum Torscan {
    public static var binary: URL {
        let debug = TestPaths.packageRoot.appendingPathComponent(".build/debug/torscan")
        return debug
    }

    public static func run(_ arguments: [String], stdin: Data? = nil) throws -> ToolRun {
        try runTool(binary.path, arguments, stdin: stdin, in: TestPaths.packageRoot)
    }
}

/// Runs an executable; `executable` may be a bare name searched on PATH.
public func runTool(_ executable: String, _ arguments: [String], stdin: Data? = nil, in directory: URL? = nil) throws -> ToolRun {
    let p = Process()
    if executable.contains("/") {
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
    } else {
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [executable] + arguments
    }
    if let directory { p.currentDirectoryURL = directory }
    let out = Pipe(), err = Pipe(), input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    // Read both pipes while the process runs, so a large report cannot block it.
    final class Box: @unchecked Sendable { var data = Data() }
    let outBox = Box()
    let group = DispatchGroup()
    group.enter()
    let reader = out.fileHandleForReading
    DispatchQueue.global().async { outBox.data = reader.readDataToEndOfFile(); group.leave() }
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ToolRun(status: p.terminationStatus, stdout: String(decoding: outBox.data, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// True when `name` is on PATH.
public func toolExists(_ name: String) -> Bool {
    (try? runTool("which", [name]).status) == 0
}
