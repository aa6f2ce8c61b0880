import DuetFuzzing
import DuetWire
import Testing

/// One UDP port carries STUN, TURN channels, DTLS and RTP (RFC 7983): the first byte decides
/// which parser a datagram reaches. Whatever the bytes, at most one parser may accept them,
/// and only the one the demultiplexer routes them to — a datagram that two parsers read
/// differently would be a way to smuggle one protocol into another.
@Suite("Media demultiplexer fuzz")
struct MediaDemuxFuzzTests {
    @Test func everyFirstByteHasOneKind() {
        for byte in UInt8.min...UInt8.max {
            let expected: MediaPacketKind =
                switch byte {
                case 0...3: .stun
                case 20...63: .dtls
                case 64...79: .turnChannel
                case 128...191: .rtp
                default: .unknown
                }
            #expect(MediaPacketKind(firstByte: byte) == expected)
            #expect(MediaPacketKind(datagram: [byte, 0, 0]) == expected)
        }
    }

    @Test func mutatedDatagramsReachOnlyTheirOwnParser() {
        // A DTLS 1.2 handshake record header (DuetWire does not parse DTLS; the demux must still route it).
        let dtls: [UInt8] = [22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0]
        let samples = STUNFuzzTests.messages + STUNFuzzTests.channelData + RTPFuzzTests.samples + [dtls]
        let report = FuzzTarget("media demultiplexer", defaultIterations: 3000).run(samples: samples) { input, _ in
            let kind = MediaPacketKind(datagram: input)
            let readers: [(MediaPacketKind, Bool)] = [
                (.stun, (try? STUNMessage(parsing: input)) != nil),
                (.turnChannel, (try? ChannelData(parsing: input)) != nil),
                (.rtp, (try? RTPPacket(parsing: input)) != nil)
            ]
            let accepting = readers.filter(\.1).map(\.0)
            try ensure(accepting.allSatisfy { $0 == kind }, "routed as \(kind) but accepted by \(accepting)")
            return accepting.isEmpty ? .rejected : .accepted
        }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }
}
