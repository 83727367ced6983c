// The thin CLI (DESIGN.md rule 9): parse options, call TorscanCore, map results to exit statuses.
import ArgumentParser
import TorscanCore

@main
struct Torscan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torscan",
        abstract: "Find BitTorrent in pcap/pcapng captures and report evidence by IP address and infohash.",
        version: TorscanVersion.string,
        subcommands: [Analyze.self, Flows.self, InfoCommand.self, Eval.self, Extract.self, Verify.self],
        defaultSubcommand: Analyze.self
    )
}
