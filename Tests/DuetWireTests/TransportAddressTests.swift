import DuetWire
import Testing

@Suite("Transport addresses")
struct TransportAddressTests {
    @Test func parsesIPv4AndIPv6LiteralsAndNothingElse() {
        #expect(TransportAddress(literal: "192.0.2.7", port: 9)?.ip == [192, 0, 2, 7])
        let v6 = TransportAddress(literal: "[2001:db8::1]", port: 9)
        #expect(v6?.ip == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1])
        #expect(v6?.ipText == "2001:db8::1")
        #expect(v6?.description == "[2001:db8::1]:9", "shown as written, not as eight groups")
        for text in ["duet.example", "192.0.2", "fe80::1%eth0", "", "::g"] {
            #expect(TransportAddress(literal: text, port: 9) == nil, "\(text)")
        }
    }

    /// A dual-stack socket names IPv4 peers ::ffff:a.b.c.d; Duet compares and shows them as IPv4.
    @Test func mapsIPv4IntoIPv6AndBack() {
        let v4 = TransportAddress(ipv4: "203.0.113.5", port: 7401)!
        #expect(v4.mappedToIPv6.ip.count == 16)
        #expect(v4.mappedToIPv6.unmappedIPv4 == v4)
        #expect(TransportAddress(literal: "2001:db8::1", port: 1)!.unmappedIPv4 == nil)
        #expect(TransportAddress(literal: "::", port: 0)!.isUnspecified && TransportAddress(ipv4: "0.0.0.0", port: 0)!.isUnspecified)
        #expect(TransportAddress(literal: "::1", port: 0)!.isLoopback && TransportAddress(ipv4: "127.8.0.1", port: 0)!.isLoopback)
        #expect(!v4.isLoopback && !v4.isUnspecified)
    }
}
