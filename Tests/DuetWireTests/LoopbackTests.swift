import DuetWire
import Testing

/// The one place "localhost" becomes an address (`Loopback`).
@Suite("Loopback")
struct LoopbackTests {
    @Test func theNameIsTheIPv4LoopbackWhateverItsCase() {
        for name in ["localhost", "LocalHost", "LOCALHOST"] {
            #expect(Loopback.isName(name))
            #expect(Loopback.address(named: name, port: 7400) == TransportAddress(ipv4: "127.0.0.1", port: 7400))
        }
        #expect(Loopback.address(named: "localhost", port: 7400)!.isLoopback)
    }

    @Test func otherHostsAreLeftToTheCaller() {
        for host in ["127.0.0.1", "::1", "localhost.example", "example.org", ""] {
            #expect(!Loopback.isName(host))
            #expect(Loopback.address(named: host, port: 7400) == nil)
        }
    }

    @Test func loopbackHostPortIsIPv4() {
        #expect(HostPort.loopback(port: 0) == HostPort(host: "127.0.0.1", port: 0))
        #expect(HostPort.loopback(port: 7400).description == "127.0.0.1:7400")
        #expect(TransportAddress(ipv4: Loopback.ipv4, port: 1)?.ip == Loopback.ipv4Bytes)
    }
}
