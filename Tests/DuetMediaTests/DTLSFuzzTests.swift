import DuetFuzzing
import Testing

@testable import DuetMedia

/// The server's media port starts a DTLS server for any datagram that looks like a
/// ClientHello, from anyone: the first DTLS bytes the server parses are a stranger's. Mutated
/// ClientHellos and mutated later flights of a real handshake, fed to fresh real endpoints
/// (OpenSSL underneath), must end in sends, discards or a typed failure — never keys, never a
/// trap. The record splitter that packs OpenSSL's output into datagrams trusts the length
/// fields of the records it cuts, so it is fuzzed with lying lengths too.
@Suite("DTLS fuzz")
struct DTLSFuzzTests {
    /// What one real handshake sent, per side and flight (recorded once per test run).
    struct Recording {
        let clientFlights: [[UInt8]]
        let serverFlights: [[UInt8]]
        var all: [[UInt8]] { clientFlights + serverFlights }
    }

    static func record(clientProfiles: [SRTPProfile] = [.aesCM128HMACSHA1_80]) async throws -> Recording {
        let link = try DTLSTestLink(clientProfiles: clientProfiles, serverProfiles: [.aeadAES128GCM, .aesCM128HMACSHA1_80])
        try await link.run()
        #expect(link.clientKeys != nil && link.serverKeys != nil)
        return Recording(
            clientFlights: link.sent.filter { $0.from == .client }.map(\.datagram),
            serverFlights: link.sent.filter { $0.from == .server }.map(\.datagram))
    }

    /// A fresh server gets a mutated ClientHello, and sometimes a mutated later client flight
    /// from another handshake; a fresh client gets mutated server flights after its hello.
    @Test func mutatedFlightsFailCleanly() async throws {
        let recordings = [try await Self.record(), try await Self.record(clientProfiles: [.aeadAES128GCM, .aesCM128HMACSHA1_80])]
        let certificate = try DTLSCertificate(commonName: "fuzz")
        let peer = try DTLSCertificate(commonName: "peer").fingerprint
        let hellos = recordings.map { $0.clientFlights[0] }
        let clientLater = recordings.flatMap { $0.clientFlights.dropFirst() }
        let serverFlights = recordings.flatMap(\.serverFlights)
        let mutator = Mutator(maximumStack: 3, maximumLength: 4096)
        let report = FuzzTarget("DTLS endpoints", defaultIterations: 1000, cost: 5).run(
            { random in
                // Role byte, then the datagrams, each prefixed with its 2-byte length: one input replays the whole exchange.
                let server = Bool.random(using: &random)
                var datagrams: [[UInt8]]
                if server {
                    datagrams = [
                        Bool.random(using: &random) ? mutator.mutate(hellos, using: &random) : hellos.randomElement(using: &random)!
                    ]
                    if datagrams[0] == hellos[0] || datagrams[0] == hellos[1] || Bool.random(using: &random) {
                        datagrams.append(mutator.mutate(clientLater, using: &random))
                    }
                } else {
                    datagrams = (0..<Int.random(in: 1...3, using: &random)).map { _ in mutator.mutate(serverFlights, using: &random) }
                }
                return [server ? 1 : 0] + datagrams.flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xFF)] + $0 }
            },
            property: { input, _ in
                let endpoint =
                    input.first == 1
                    ? try DTLSEndpoint(
                        role: .server, certificate: certificate, peerFingerprint: nil, profiles: [.aeadAES128GCM, .aesCM128HMACSHA1_80])
                    : try DTLSEndpoint(role: .client, certificate: certificate, peerFingerprint: peer)
                var actions = endpoint.start()
                for datagram in Self.datagrams(in: input.dropFirst()) { actions += endpoint.receive(datagram) }
                actions += endpoint.tick()
                for action in actions {
                    switch action {
                    case let .send(datagram):
                        try ensure(
                            datagram.count <= endpoint.mtu && (20...63).contains(datagram.first ?? 0),
                            "sent a \(datagram.count)-byte non-DTLS datagram")
                    case .connected:
                        throw FuzzViolation("a handshake completed on recorded flights of another handshake")
                    case .failed, .closed, .discarded:
                        break
                    }
                }
                switch endpoint.state {
                case .handshaking: return .accepted
                case .failed: return .rejected
                case .connected, .closed: throw FuzzViolation("ended \(endpoint.state)")
                }
            })
        #expect(report.isClean, "\(report)")
    }

    /// Cutting OpenSSL's output into records and datagrams loses no byte and keeps to the MTU,
    /// whatever the record length fields say.
    @Test func recordSplittingSurvivesLyingLengths() async throws {
        let flights = try await Self.record().all
        let report = FuzzTarget("DTLS record splitting", defaultIterations: 1500, cost: 4).run(
            samples: flights + [flights.joined().map { $0 }]
        ) { input, random in
            let records = DTLSDatagramPacker.records(in: input)
            try ensure(Array(records.joined()) == input, "records lost or reordered bytes")
            for record in records.dropLast() {
                let length = Int(record[record.startIndex + 11]) << 8 | Int(record[record.startIndex + 12])
                try ensure(
                    record.count == DTLSDatagramPacker.recordHeaderLength + length, "a record of \(record.count) bytes declares \(length)")
            }
            let mtu = Int.random(in: 256...1500, using: &random)
            let datagrams = DTLSDatagramPacker.datagrams(from: input, mtu: mtu)
            try ensure(Array(datagrams.joined()) == input, "datagrams lost or reordered bytes")
            try ensure(
                datagrams.allSatisfy { $0.count <= mtu || DTLSDatagramPacker.records(in: $0).count == 1 },
                "a datagram of several records exceeds the \(mtu)-byte MTU")
            return records.count > 1 ? .accepted : .rejected
        }
        #expect(report.isClean, "\(report)")
    }

    /// Splits the length-prefixed datagrams of an input back out; a cut-short tail is dropped.
    static func datagrams(in bytes: ArraySlice<UInt8>) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var offset = bytes.startIndex
        while offset + 2 <= bytes.endIndex {
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            let end = min(bytes.endIndex, offset + 2 + length)
            out.append(Array(bytes[offset + 2..<end]))
            offset = end
        }
        return out
    }
}
