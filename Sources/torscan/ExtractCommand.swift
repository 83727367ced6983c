// `torscan extract --ip ADDR --infohash HEX -o exhibit.pcap FILES...`: the supporting flows' packets as
// a new capture, with a frame map and a manifest beside it (TorscanCore/Exhibits/Exhibit.swift).
import ArgumentParser
import Foundation
import PacketDecode
import BitTorrentClassifier
import TorscanCore

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the packets of the flows supporting one (IP, infohash) row to a new capture, as an exhibit.",
        discussion: "Beside OUTPUT: OUTPUT.frames.csv (exhibit frame -> original capture and frame) and OUTPUT.manifest.json (inputs and exhibit with SHA-256). Exit status 4 when no flow matches.")

    @Option(help: "The address of the evidence row.") var ip: String
    @Option(help: "The infohash of the evidence row (40 or 64 hex digits; matched on the 20-byte wire form).") var infohash: String
    @Option(name: .shortAndLong, help: "The exhibit capture to write (pcap, or pcapng when link types differ).") var output: String
    @Flag(help: "No messages on standard error beyond errors.") var quiet = false
    @Argument(help: "Capture files or directories (read twice, so not standard input).") var files: [String]

    mutating func run() throws {
        guard let address = IPAddress(ip) else { throw ValidationError("--ip \(ip): not an IPv4 or IPv6 address") }
        guard let hash = InfoHash(hex: infohash) else { throw ValidationError("--infohash \(infohash): not 40 or 64 hex digits") }
        let result: ExhibitResult
        do {
            result = try Exhibit.extract(paths: files, selection: ExhibitSelection(ip: address, infoHash: hash), to: output)
        } catch let e as ExhibitError {
            FileHandle.standardError.write(Data("torscan: \(e)\n".utf8))
            switch e {
            case .nothingSelected: throw ExitCode(ExitStatus.checkFailed.rawValue)
            case .standardInput: throw ExitCode(ExitStatus.usage.rawValue)
            case .cannotRead: throw ExitCode(ExitStatus.noInput.rawValue)
            case .cannotWrite: throw ExitCode(ExitStatus.cannotWrite.rawValue)
            }
        } catch let e as PipelineError {
            FileHandle.standardError.write(Data("torscan: \(e)\n".utf8))
            throw ExitCode(ExitStatus.noInput.rawValue)
        } catch {  // a missing path or unreadable directory (CaptureInputs)
            FileHandle.standardError.write(Data("torscan: \(error)\n".utf8))
            throw ExitCode(ExitStatus.noInput.rawValue)
        }
        for input in result.run.inputs { for d in input.damage { FileHandle.standardError.write(Data("torscan: \(d)\n".utf8)) } }
        if !quiet {
            FileHandle.standardError.write(Data("torscan: \(result.packets) packets of \(result.flows.count) flow(s) -> \(result.exhibitPath) (\(result.format.rawValue), sha256 \(result.sha256))\n".utf8))
        }
        try exitForDamage(result.run)
    }
}
