import DuetClient
import DuetWire
import Foundation
import Testing

@Suite("Candidate")
struct CandidateTests {
    @Test func roundTripsThroughJSON() throws {
        let candidate = Candidate(kind: .serverReflexive, address: TransportAddress(ipv4: "192.0.2.7", port: 40000)!)
        let decoded = try JSONDecoder().decode(Candidate.self, from: JSONEncoder().encode(candidate))
        #expect(decoded == candidate)
        #expect(decoded.description == "srflx 192.0.2.7:40000")
    }

    /// A hostile peer's candidate with a 5-byte address is refused when decoded, not trapped on later.
    @Test func anAddressOfTheWrongLengthIsADecodingError() {
        let json = Data(#"{"kind":"host","ip":[1,2,3,4,5],"port":9}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Candidate.self, from: json) }
        let unknownKind = Data(#"{"kind":"prflx","ip":[1,2,3,4],"port":9}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Candidate.self, from: unknownKind) }
    }

    /// Nothing can be sent to 0.0.0.0 or port 0: a peer announcing them is refused, not obeyed.
    @Test func anUnspecifiedAddressOrPortIsADecodingError() {
        for json in [#"{"kind":"host","ip":[0,0,0,0],"port":9}"#, #"{"kind":"host","ip":[192,0,2,1],"port":0}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Candidate.self, from: Data(json.utf8)) }
        }
    }

    /// RFC 8445 §5.1.2: host above server-reflexive above relayed; the priority travels with it.
    @Test func prioritiesOrderTheKindsAndSurviveJSON() throws {
        let address = TransportAddress(ipv4: "192.0.2.7", port: 40000)!
        let host = Candidate(kind: .host, address: address), srflx = Candidate(kind: .serverReflexive, address: address)
        let relay = Candidate(kind: .relay, address: address)
        #expect(host.priority > srflx.priority && srflx.priority > relay.priority)
        #expect(host.priority == 126 << 24 | 65535 << 8 | 255)
        let second = Candidate(kind: .host, address: address, localPreference: 65534)
        #expect(try JSONDecoder().decode(Candidate.self, from: JSONEncoder().encode(second)).priority == second.priority)
    }
}
