import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// The one media pump of every kind of call, alone: two pumps joined by nothing but the bytes
/// one sends and the other receives (the engines' use of it runs over real servers in
/// DuetServerTests).
@Suite("Media pump")
struct MediaPumpTests {
    static let alice = "+15550001"
    static let bob = "+15550777"

    /// Alice's pump and Bob's, keyed as a call's two directions; Bob listens for Alice.
    static func pair(seal: Bool = false) throws -> (alice: MediaPump, bob: MediaPump) {
        let aliceToBob = SecureBytes(randomCount: CallKeys.srtpMasterKeyCount)
        let bobToAlice = SecureBytes(randomCount: CallKeys.srtpMasterKeyCount)
        let alice = MediaPump(outbound: try OutboundMedia(voice: alice, ssrc: 1111, options: MediaOptions()))
        let bob = MediaPump(outbound: try OutboundMedia(voice: bob, ssrc: 2222, options: MediaOptions()), playsFirstFrameAtOnce: true)
        alice.useKeys(
            sending: try SRTPSession(role: .sender, masterKey: aliceToBob),
            receiving: try SRTPSession(role: .receiver, masterKey: bobToAlice))
        bob.useKeys(
            sending: try SRTPSession(role: .sender, masterKey: bobToAlice),
            receiving: try SRTPSession(role: .receiver, masterKey: aliceToBob))
        bob.addStream(try InboundStream(source: Self.alice, voices: [Self.alice, Self.bob]))
        return (alice, bob)
    }

    /// Bob's opener: Alice's SSRC is Alice's; the frame is taken as it is, or unsealed.
    static func open(_ packet: RTPPacket, unseal: Bool = false) -> MediaPump.OpenedFrame? {
        guard packet.ssrc == 1111 else { return nil }
        return MediaPump.OpenedFrame(source: alice, payload: unseal ? packet.payload.map { $0 ^ 0x5A } : packet.payload)
    }

    /// Source → Opus → RTP → SRTP on one side; demux → SRTP → opener → jitter buffer → Opus →
    /// listener on the other: after a second of frames Bob hears Alice's voice, and the first
    /// frame was played (and said so) as it came.
    @Test func aSecondOfFramesIsHeardAsTheSendersVoice() throws {
        let (alice, bob) = try Self.pair()
        var firstHeard = 0
        let start = ContinuousClock.now
        for frame in 0..<60 {
            var packets: [[UInt8]] = []
            try alice.sendDueFramesNow(into: &packets, at: start + .milliseconds(20 * frame))
            for packet in packets {
                if case .media(_, true) = bob.receive(packet, open: { Self.open($0) }) { firstHeard += 1 }
            }
            bob.playout()
        }
        #expect(firstHeard == 1)
        #expect(bob.firstHeardAt != nil)
        let stream = try #require(bob.streams[Self.alice])
        #expect(stream.received == 60)
        #expect(stream.analysis().speaker == VoiceSignature(number: Self.alice))
    }

    /// A frame sealed on the way out (as SFrame seals a group call's) reaches the decoder only
    /// through the opener that unseals it; one no opener claims is counted, not played.
    @Test func sealedFramesAreOpenedByTheEnginesOpener() throws {
        let (alice, bob) = try Self.pair()
        let start = ContinuousClock.now
        for frame in 0..<60 {
            var packets: [[UInt8]] = []
            try alice.sendDueFramesNow(into: &packets, at: start + .milliseconds(20 * frame), seal: { $0.map { $0 ^ 0x5A } })
            for packet in packets { _ = bob.receive(packet) { Self.open($0, unseal: true) } }
            bob.playout()
        }
        #expect(bob.streams[Self.alice]?.analysis().speaker == VoiceSignature(number: Self.alice))
        #expect(bob.receive(try alice.oneFrame(), open: { _ in nil }) == .unclaimed)
        #expect(bob.unopened == 1)
    }

    /// Tampered and replayed packets are counted apart and go no further; STUN and DTLS are
    /// handed back to the engine untouched (RFC 7983).
    @Test func tamperedReplayedAndForeignDatagramsAreSortedOut() throws {
        let (alice, bob) = try Self.pair()
        let packet = try alice.oneFrame()
        #expect(bob.receive(packet, open: { Self.open($0) }) != .dropped)
        #expect(bob.receive(packet, open: { Self.open($0) }) == .dropped)
        var tampered = try alice.oneFrame()
        tampered[tampered.count - 1] ^= 1
        #expect(bob.receive(tampered, open: { Self.open($0) }) == .dropped)
        #expect(bob.replayed == 1 && bob.rejected == 1)
        let stun: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: 7, count: 12)
        #expect(bob.receive(stun, open: { Self.open($0) }) == .stun(stun))
        let dtls: [UInt8] = [22, 0xFE, 0xFD] + [UInt8](repeating: 0, count: 10)
        #expect(bob.receive(dtls, open: { Self.open($0) }) == .dtls(dtls))
        #expect(bob.streams[Self.alice]?.received == 1)
    }

    /// Frame n leaves at n × 20 ms from the first; after a stall only the last three due are
    /// sent, and the packet numbering goes on without a gap in sequence numbers.
    @Test func aStalledClockCatchesUpByAtMostThreeFrames() throws {
        var outbound = try OutboundMedia(voice: Self.alice, ssrc: 1111, options: MediaOptions())
        let srtp = try SRTPSession(role: .sender, masterKey: SecureBytes(randomCount: CallKeys.srtpMasterKeyCount))
        let start = ContinuousClock.now
        #expect(try outbound.dueFrames(now: start, srtp: srtp, seal: nil).count == 1)
        #expect(try outbound.dueFrames(now: start + .milliseconds(10), srtp: srtp, seal: nil).isEmpty)
        #expect(try outbound.dueFrames(now: start + .milliseconds(40), srtp: srtp, seal: nil).count == 2)
        #expect(try outbound.dueFrames(now: start + .seconds(1), srtp: srtp, seal: nil).count == OutboundMedia.catchUp)
        #expect(try outbound.dueFrames(now: start + .milliseconds(1020), srtp: srtp, seal: nil).count == 1)
        #expect(outbound.sent == 1 + 2 + 3 + 1)
    }

    /// A new leg brings new keys, never a new stream: the frames after it go on under the
    /// same SSRC with the next sequence number, and nothing leaves while no keys are in.
    @Test func newKeysCarryTheSameStreamOn() throws {
        let first = SecureBytes(randomCount: CallKeys.srtpMasterKeyCount)
        let second = SecureBytes(randomCount: CallKeys.srtpMasterKeyCount)
        let unused = SecureBytes(randomCount: CallKeys.srtpMasterKeyCount)
        let alice = MediaPump(outbound: try OutboundMedia(voice: Self.alice, ssrc: 1111, options: MediaOptions()))
        alice.useKeys(
            sending: try SRTPSession(role: .sender, masterKey: first), receiving: try SRTPSession(role: .receiver, masterKey: unused))
        let before = try RTPPacket(parsing: try SRTPSession(role: .receiver, masterKey: first).unprotect(try alice.oneFrame()))
        alice.dropKeys()
        var none: [[UInt8]] = []
        try alice.sendDueFramesNow(into: &none)
        #expect(none.isEmpty && !alice.hasKeys)
        alice.useKeys(
            sending: try SRTPSession(role: .sender, masterKey: second), receiving: try SRTPSession(role: .receiver, masterKey: unused))
        let after = try RTPPacket(parsing: try SRTPSession(role: .receiver, masterKey: second).unprotect(try alice.oneFrame()))
        #expect(after.ssrc == before.ssrc)
        #expect(after.sequenceNumber == before.sequenceNumber &+ 1)
    }
}

extension MediaPump {
    /// The frames due now, collected (the tests' transport).
    func sendDueFramesNow(
        into packets: inout [[UInt8]], at now: ContinuousClock.Instant = .now, seal: (([UInt8]) throws -> [UInt8])? = nil
    ) throws {
        var sent: [[UInt8]] = []
        try sendDueFrames(now: now, seal: seal) { sent.append($0) }
        packets += sent
    }

    /// The first frame that comes due (waiting a frame time if none is due yet).
    func oneFrame() throws -> [UInt8] {
        var packets: [[UInt8]] = []
        while packets.isEmpty {
            try sendDueFramesNow(into: &packets)
            if packets.isEmpty { Thread.sleep(forTimeInterval: 0.021) }
        }
        return packets[0]
    }
}
