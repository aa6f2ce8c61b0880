import DuetWire
import Testing

@Suite("HOST:PORT")
struct HostPortTests {
    @Test func parsesNamesAddressesAndBracketedIPv6() throws {
        #expect(try HostPort(parsing: "127.0.0.1:7400") == HostPort(host: "127.0.0.1", port: 7400))
        #expect(try HostPort(parsing: "duet.example:443") == HostPort(host: "duet.example", port: 443))
        #expect(try HostPort(parsing: "[::1]:7401") == HostPort(host: "::1", port: 7401))
        #expect(HostPort(host: "::1", port: 7401).description == "[::1]:7401")
    }

    @Test(arguments: ["localhost", "localhost:", ":7400", "host:0", "host:65536", "host:7x", "[::1]7400"])
    func refusesMalformed(_ text: String) {
        #expect(throws: HostPort.ParseError.self) { try HostPort(parsing: text) }
    }
}
