// swift-tools-version: 6.1
// torscan: offline pcap/pcapng BitTorrent forensics. Layering per ../shared/DESIGN.md:
// WireBytes <- CaptureFile, PacketDecode, BitTorrentClassifier <- FlowEvidence <- Reports <- TorscanCore <- torscan
import PackageDescription

// The per-packet modules (reading, decoding, the pipeline's loop, flows, classifier) mutate state held
// in classes and captured variables; in release builds the dynamic exclusivity checks on those
// accesses cost about 4% of a run (perf, issue 6). Debug builds, which run the tests, keep the checks.
let hotPathSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "torscan",
    // macOS 15: Synchronization.Atomic (the thread hand-off, ShardedAnalysis.swift).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "torscan", targets: ["torscan"]),
        .library(name: "BitTorrentClassifier", targets: ["BitTorrentClassifier"]),
        .library(name: "CaptureFile", targets: ["CaptureFile"]),
        // Used by the libFuzzer package in Fuzz/ (and replayed by FuzzReplayTests).
        .library(name: "FuzzEntryPoints", targets: ["FuzzEntryPoints"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // C libraries from Debian: libpcap-dev, zlib1g-dev, libzstd-dev.
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        // Not "CZlib": ZIPFoundation (XLSX) has a module of that name, and two cannot share a build.
        .systemLibrary(name: "SystemZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // A prefetch hint (the flow lookup's cache misses, issue 6): header-only C, inlined into Swift.
        .target(name: "CPrefetch"),
        .target(name: "WireBytes"),
        .target(name: "CaptureFile", dependencies: ["WireBytes", "SystemZlib", "CZstd", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: hotPathSettings),
        .target(name: "PcapFilter", dependencies: ["CPcap", "CaptureFile", "WireBytes"]),
        .target(name: "PacketDecode", dependencies: ["WireBytes"], swiftSettings: hotPathSettings),
        .target(name: "FuzzEntryPoints", dependencies: ["WireBytes", "PacketDecode", "CaptureFile", "BitTorrentClassifier"]),
        // The shared classifier: WireBytes and the standard library only (no Foundation, no I/O).
        .target(name: "BitTorrentClassifier", dependencies: ["WireBytes"], swiftSettings: hotPathSettings),
        .target(name: "FlowEvidence", dependencies: ["WireBytes", "PacketDecode", "CPrefetch", "BitTorrentClassifier", .product(name: "Crypto", package: "swift-crypto"),
                                               .product(name: "DequeModule", package: "swift-collections")],
                swiftSettings: hotPathSettings),
        // GitCommitPlugin writes the commit torscan was built from into Reports (run manifest).
        .plugin(name: "GitCommitPlugin", capability: .buildTool()),
        .target(name: "Reports", dependencies: ["FlowEvidence", "CaptureFile", "ZIPFoundation", .product(name: "Crypto", package: "swift-crypto")],
                plugins: ["GitCommitPlugin"]),
        .target(name: "TorscanCore", dependencies: ["WireBytes", "CaptureFile", .product(name: "Crypto", package: "swift-crypto"), "PcapFilter", "PacketDecode", "BitTorrentClassifier", "FlowEvidence", "Reports"],
                swiftSettings: hotPathSettings),
        .executableTarget(name: "torscan", dependencies: ["TorscanCore", "Reports", "FlowEvidence", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .target(name: "TorscanTestSupport", dependencies: ["WireBytes"], path: "Tests/TorscanTestSupport"),
        .testTarget(name: "WireBytesTests", dependencies: ["WireBytes", "TorscanTestSupport"]),
        .testTarget(name: "CaptureFileTests", dependencies: ["CaptureFile", "PcapFilter", "CPcap", "Reports", "TorscanTestSupport"]),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzEntryPoints", "TorscanTestSupport"]),
        .testTarget(name: "PacketDecodeTests", dependencies: ["PacketDecode", "CaptureFile", "TorscanTestSupport"]),
        .testTarget(name: "BitTorrentClassifierTests", dependencies: ["BitTorrentClassifier", "CaptureFile", "PacketDecode", "TorscanTestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "FlowEvidenceTests", dependencies: ["FlowEvidence", "TorscanCore", "TorscanTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TorscanCore", "Reports", "TorscanTestSupport"]),
    ]
)
