// `torscan flows FILE... --csv`: one row per flow with its label (DESIGN.md flow contract).
import ArgumentParser
import Foundation
import Reports
import TorscanCore

struct Flows: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One row per flow with its label, for analysts and for measuring the classifier.")

    @Argument(help: "Capture files or directories; - reads standard input.") var files: [String]
    @OptionGroup var output: OutputOptions
    @OptionGroup var selection: SelectionOptions

    mutating func run() throws {
        let options = try selection.options(perDay: false)
        let run = try runPipeline(files: files, options: options, quiet: output.quiet)
        let text: String
        switch output.format {
        case .csv, .summary: text = FlowReport.csv(run.flows, captures: run.capturePaths, fractionDigits: run.fractionDigits)
        case .ndjson: text = run.flows.map { FlowReport.json($0, captures: run.capturePaths, fractionDigits: run.fractionDigits).serialized() + "\n" }.joined()
        case .json: text = JSONValue.array(run.flows.map { FlowReport.json($0, captures: run.capturePaths, fractionDigits: run.fractionDigits) }).serialized(pretty: true) + "\n"
        }
        try emit(text, to: output.out)
        try exitForDamage(run)
    }
}
