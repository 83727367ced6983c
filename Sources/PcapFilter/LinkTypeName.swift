// Link-type names from libpcap, so reports use the names tcpdump and capinfos print.
import CPcap

public enum LinkTypeName {
    /// libpcap's DLT name (e.g. "EN10MB"), or nil for a number it does not know.
    /// LINKTYPE_RAW (101) is DLT_RAW (12) inside libpcap; other numbers are equal for what we read.
    public static func dltName(_ linktype: UInt32) -> String? {
        let dlt: Int32 = linktype == 101 ? 12 : Int32(truncatingIfNeeded: linktype)
        guard let p = pcap_datalink_val_to_name(dlt) else { return nil }
        return String(cString: p)
    }
}
