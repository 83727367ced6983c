// Linux "cooked" capture v2, LINKTYPE_LINUX_SLL2 = 276 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html):
// protocol type (2), reserved (2), interface index (4), ARPHRD_ type (2), packet type (1),
// address length (1), address (8, padded). The protocol type is an EtherType as in SLL v1.
import WireBytes

enum LinuxSLL2 {
    static let headerLength = 20

    static func parse(_ frame: UnsafeRawBufferPointer, limits: DecoderLimits) -> LinkParse {
        guard frame.count >= headerLength, let proto = frame.u16be(at: 0) else { return .stop(.link, .truncatedLinkHeader, at: 0) }
        guard proto >= EtherType.minimumType else { return .stop(.link, .nonIPPayload, at: headerLength) }
        return EtherType.dispatch(proto, frame, at: headerLength, limits: limits)
    }
}
