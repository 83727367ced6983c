// Linux "cooked" capture v1, LINKTYPE_LINUX_SLL = 113 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html):
// packet type (2), ARPHRD_ type (2), link-layer address length (2), address (8, padded), protocol type (2).
// The protocol type is an EtherType for ordinary ARPHRD_ types (values below 0x0600 mean Novell,
// 802.2 LLC or CAN: no IP).
import WireBytes

enum LinuxSLL {
    static let headerLength = 16

    static func parse(_ frame: UnsafeRawBufferPointer, limits: DecoderLimits) -> LinkParse {
        guard let proto = frame.u16be(at: 14) else { return .stop(.link, .truncatedLinkHeader, at: 0) }
        guard proto >= EtherType.minimumType else { return .stop(.link, .nonIPPayload, at: headerLength) }
        return EtherType.dispatch(proto, frame, at: headerLength, limits: limits)
    }
}
