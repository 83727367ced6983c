// swift-tools-version: 6.1
// libFuzzer targets for torscan, kept out of the main build. Build and run with Scripts/fuzz.sh TARGET SECONDS
// (swift build -c debug --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp).
// Each target is a thin `LLVMFuzzerTestOneInput` over a function in the main package's FuzzEntryPoints, which
// FuzzReplayTests also calls, so `swift test` replays Corpus/ and FailCases/ without a fuzzer build.
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (torscan, main, a worktree's name...), so compute it.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "TorscanFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "FuzzDecode", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzPcap", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzPcapNG", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzTunnel", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzTorrent", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzHTTPTracker", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzUTP", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzPeerWire", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzDHT", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
        .executableTarget(name: "FuzzBencode", dependencies: [.product(name: "FuzzEntryPoints", package: root)]),
    ]
)
