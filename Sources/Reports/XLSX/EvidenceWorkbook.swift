// `--xlsx FILE`: the evidence report as an Excel workbook (issue 8). Sheet "evidence" has the CSV
// columns (EvidenceReport.csvColumns, then `day` with --per-day) with dates as Excel dates (UTC), counts
// as numbers, text from the wire defused against formulas; sheet "manifest" has the run manifest.
import Foundation
import FlowEvidence
import WireBytes

public enum EvidenceWorkbook {
    public static func workbook(rows: [EvidenceRow], captures: [String], perDay: Bool, manifest: [(String, String)]) -> XLSXWorkbook {
        let header = perDay ? EvidenceReport.csvColumns + ["day"] : EvidenceReport.csvColumns
        let cells: @Sendable (Int) -> [XLSXWorkbook.Cell] = { i in
            let r = rows[i]
            var c: [XLSXWorkbook.Cell] = [
                .text(r.ip.description),
                .text(r.infoHash.hex),
                .dateTime(r.firstSeen),
                .dateTime(r.lastSeen),
                .integer(Int64(r.activeDays.count)),
                .text(r.confidence.description),
                .text(EvidenceReport.signals(r)),
                .integer(Int64(r.flows)), .integer(Int64(r.peers)),
                .integer(r.bytesUp), .integer(r.bytesDown),
                .integer(Int64(r.piecesUp)), .integer(Int64(r.piecesDown)), .integer(Int64(r.piecesVerified)),
                wireText(r.client),
                wireText(r.torrentName),
                wireText(EvidenceReport.capturePath(r.firstFrame, captures)),
                .integer(Int64(r.firstFrame.frame)),
                wireText(r.via?.description),
                wireText(EvidenceReport.targets(r)),
                wireText(EvidenceReport.attributedTo(r)),
            ]
            if perDay { c.append(r.day.map { .date(day: $0) } ?? .empty) }
            return c
        }
        // Widths in characters: addresses, 40-64 hex digits, dates with milliseconds, counts, names.
        var widths: [Double] = [18, 42, 24, 24, 11, 11, 28, 7, 7, 12, 12, 10, 11, 15, 20, 30, 30, 11, 22, 30, 18]
        if perDay { widths.append(11) }
        let evidence = XLSXWorkbook.Sheet(name: "evidence", header: header, rowCount: rows.count, columnWidths: widths, cells: cells)
        let manifestSheet = XLSXWorkbook.Sheet(name: "manifest", header: ["key", "value"],
                                               rows: manifest.map { [.text($0.0), .text(CSVField.defuse($0.1))] },
                                               frozenHeaderWithFilter: false, columnWidths: [24, 80])
        return XLSXWorkbook(sheets: [evidence, manifestSheet])
    }

    /// Writes the workbook atomically. `manifest` is usually `RunManifest.keyValueRows()`.
    public static func write(rows: [EvidenceRow], captures: [String], perDay: Bool, manifest: [(String, String)], to path: String) throws(XLSXError) {
        try workbook(rows: rows, captures: captures, perDay: perDay, manifest: manifest).write(to: path)
    }

    static func wireText(_ s: String?) -> XLSXWorkbook.Cell {
        guard let s, !s.isEmpty else { return .empty }
        return .text(CSVField.defuse(s))
    }
}
