// What `torscan info` reports about one file (capinfos-like), gathered in one read.
import WireBytes

public struct CaptureSummary: Sendable {
    public var path: String
    public var format: CaptureFormat
    public var compression: Compression
    public var byteOrder: ByteOrder
    /// One entry per distinct resolution, in interface order.
    public var timestampResolutions: [TimestampResolution]
    public var interfaces: [CaptureInterface]
    public var result: CaptureReadResult
    public var sha256: String?

    public var linkTypes: [LinkType] { interfaces.map(\.linkType) }

    /// Reads the whole file; the hash is skipped when `hashing` is false (throughput runs).
    public static func read(path: String, hashing: Bool = true) throws(CaptureOpenError) -> CaptureSummary {
        let reader = try CaptureReader(path: path)
        reader.computesSHA256 = hashing
        let result = reader.forEachRecord { _ in true }
        var resolutions: [TimestampResolution] = []
        for i in reader.interfaces where !resolutions.contains(i.resolution) { resolutions.append(i.resolution) }
        if resolutions.isEmpty { resolutions = [reader.timestampResolution] }
        return CaptureSummary(path: path, format: reader.format ?? .pcap, compression: reader.compression,
                              byteOrder: reader.byteOrder, timestampResolutions: resolutions,
                              interfaces: reader.interfaces, result: result, sha256: reader.sha256)
    }
}
