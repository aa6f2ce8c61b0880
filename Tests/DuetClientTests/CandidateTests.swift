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
}
