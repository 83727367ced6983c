// `torscan extract` (issue 8): the packets of the flows that support one (ip, infohash) row, written
// to a new capture to hand over as an exhibit, with
// - `EXHIBIT.frames.csv`: `exhibit_frame,capture,frame,timestamp`, each exhibit frame (1-based) mapped
//   to the original capture and frame (1-based, as Wireshark numbers them);
// - `EXHIBIT.manifest.json`: the inputs (size, SHA-256), the selection, the supporting flows, and the
//   size and SHA-256 of the exhibit and of the frame map.
// All three are written atomically. Packets keep the run's order: captures by first timestamp, then
// file order, the same order the analysis read them in.
import Foundation
import WireBytes
import CaptureFile
import PcapFilter
import PacketDecode
import BitTorrentClassifier
import FlowEvidence
import Reports
import Crypto

public enum ExhibitError: Error, CustomStringConvertible {
    /// No flow involving the address names the infohash.
    case nothingSelected(ip: String, infoHash: String)
    /// Standard input can be read only once, and extract reads its inputs twice.
    case standardInput
    case cannotWrite(String)
    case cannotRead(String)

    public var description: String {
        switch self {
        case .nothingSelected(let ip, let h): "no flow involving \(ip) names infohash \(h): nothing to extract"
        case .standardInput: "extract reads its captures twice: give files, not standard input (-)"
        case .cannotWrite(let r), .cannotRead(let r): r
        }
    }
}

public struct ExhibitResult: Sendable {
    public var exhibitPath: String, frameMapPath: String, manifestPath: String
    public var format: ExhibitCaptureWriter.Format
    public var flows: [FlowRow]
    public var packets: Int
    public var sha256: String
    /// The analysis run the selection was made from (inputs, damage).
    public var run: AnalysisRun
}

public enum Exhibit {
    public static func frameMapPath(for exhibit: String) -> String { exhibit + ".frames.csv" }
    public static func manifestPath(for exhibit: String) -> String { exhibit + ".manifest.json" }

    public static func extract(paths: [String], selection: ExhibitSelection, to output: String,
                               options: AnalysisOptions = AnalysisOptions()) throws -> ExhibitResult {
        if paths.contains("-") { throw ExhibitError.standardInput }
        let run = try Pipeline.analyze(paths: paths, options: options)
        var selected = Set(selection.flowsNamingInfoHash(in: run))
        // Second pass, when there are candidates: the flows where the address announced the infohash.
        let candidates = selection.announceCandidates(in: run)
        if !candidates.isEmpty {
            var finder = AnnounceFlowFinder(selection: selection, candidates: candidates.map { run.flows[$0] })
            try forEachPacket(of: run, options: options) { rec, _, packet in finder.process(packet, at: rec.timestamp) }
            for i in finder.found { selected.insert(candidates[i]) }
        }
        let flows = selected.sorted().map { run.flows[$0] }
        guard !flows.isEmpty else { throw ExhibitError.nothingSelected(ip: selection.ip.description, infoHash: selection.infoHash.hex) }

        // Last pass: copy every packet of the selected flows, remembering where it came from.
        let windows = FlowWindows(flows)
        var writer = ExhibitCaptureWriter()
        var origins: [(capture: Int, frame: Int, time: Timestamp)] = []
        try forEachPacket(of: run, options: options) { rec, index, packet in
            if windows.contains(packet, at: rec.timestamp) {
                writer.append(linkType: rec.linkType, timestamp: rec.timestamp, originalLength: rec.originalLength, data: rec.data)
                origins.append((index, rec.frameNumber, rec.timestamp))
            }
        }

        // The capture, streamed to a temporary file and renamed into place, hashed as it is written.
        var hasher = SHA256()
        var captureSize = 0
        do {
            try AtomicFile.write(to: output) { temp in
                guard FileManager.default.createFile(atPath: temp, contents: nil), let h = FileHandle(forWritingAtPath: temp) else {
                    throw SpoolError(description: "cannot create \(temp)")
                }
                defer { try? h.close() }
                try writer.serialize { chunk in
                    try h.write(contentsOf: chunk)
                    hasher.update(data: chunk)
                    captureSize += chunk.count
                }
            }
        } catch { throw ExhibitError.cannotWrite("\(error)") }
        let sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        var frameMap = CSVField.row(["exhibit_frame", "capture", "frame", "timestamp"])
        for (n, o) in origins.enumerated() {
            frameMap += CSVField.row([String(n + 1), CSVField.defuse(run.inputs[o.capture].path), String(o.frame),
                                      o.time.rfc3339(fractionDigits: run.fractionDigits)])
        }
        let mapData = Data(frameMap.utf8)
        let framesPath = frameMapPath(for: output), manifest = manifestPath(for: output)
        try write(mapData, to: framesPath)

        var inputs: [JSONValue] = []
        for i in run.inputs {
            let digest: (size: Int64, hex: String)
            do { digest = try FileDigest.sha256(path: i.path) } catch { throw ExhibitError.cannotRead("\(error)") }
            inputs.append(.object([("path", .string(i.path)), ("size", .int(digest.size)), ("sha256", .string(digest.hex))]))
        }
        let json = JSONValue.object([
            ("torscan", .object([("version", .string(BuildInfo.version)), ("git_commit", .string(BuildInfo.gitCommit)),
                                 ("classifier_version", .string(ClassifierVersion.version))])),
            ("selection", .object([("ip", .string(selection.ip.description)), ("infohash", .string(selection.infoHash.hex)),
                                   ("matched_on", .string("20-byte wire form"))])),
            ("inputs", .array(inputs)),
            ("flows", .array(flows.map { FlowReport.json($0, captures: run.capturePaths, fractionDigits: run.fractionDigits) })),
            ("exhibit", .object([("path", .string(output)), ("format", .string(writer.format.rawValue)),
                                 ("size", .int(captureSize)), ("sha256", .string(sha)), ("packets", .int(writer.count))])),
            ("frame_map", .object([("path", .string(framesPath)), ("size", .int(mapData.count)),
                                   ("sha256", .string(sha256Hex(mapData))), ("rows", .int(origins.count))])),
        ])
        try write(Data((json.serialized(pretty: true) + "\n").utf8), to: manifest)
        return ExhibitResult(exhibitPath: output, frameMapPath: framesPath, manifestPath: manifest, format: writer.format,
                             flows: flows, packets: writer.count, sha256: sha, run: run)
    }

    /// Reads the run's inputs again in the run's order, decoding every record the analysis read
    /// (inside the time range, through the BPF filter).
    static func forEachPacket(of run: AnalysisRun, options: AnalysisOptions,
                              _ body: (CaptureRecord, Int, DecodedPacket) -> Void) throws {
        let filter = try options.filter.map { expr in
            do { return try BPFFilterSet(expression: expr) } catch { throw PipelineError.badFilter("\(error)") }
        }
        var decoder = PacketDecoder()
        for (index, input) in run.inputs.enumerated() {
            let reader: CaptureReader
            do { reader = try CaptureReader(path: input.path) } catch { throw ExhibitError.cannotRead("\(error)") }
            _ = reader.forEachRecord { rec in
                guard options.inTimeRange(rec.timestamp) else { return true }
                if let f = filter, !f.matches(rec) { return true }
                body(rec, index, decoder.decode(rec.data, linkType: rec.linkType, timestamp: rec.timestamp))
                return true
            }
        }
    }

    static func write(_ data: Data, to path: String) throws {
        do { try AtomicFile.write(data, to: path) } catch { throw ExhibitError.cannotWrite(error.description) }
    }

    static func sha256Hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
}
