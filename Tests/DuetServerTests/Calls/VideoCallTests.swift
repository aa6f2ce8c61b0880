import DuetCrypto
import DuetMedia
import DuetServer
import DuetWire
import Foundation
import Synchronization
import Testing

@testable import DuetClient

/// Video in a 1:1 call (docs/video.md) as the network carries it: SRTP on the video SSRC,
/// never a VP8 frame in the clear — through the relay, where the server could look — and the
/// key log's video line decrypts it into pictures that name the sender.
@Suite("1:1 video calls")
struct VideoCallTests {
    @Test func theVideoOnTheWireIsCiphertextAndTheLoggedKeysDecryptItIntoAlicesPictures() async throws {
        let server = try await TestServer.start()
        let keyLog = FileManager.default.temporaryDirectory.appendingPathComponent("duet-keylog-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: keyLog) }
        var caller = CallOptions()
        caller.forceRelay = true
        caller.keyLogPath = keyLog
        caller.video = try VideoSettings()
        let captured = Mutex<[[UInt8]]>([])
        var answering = CallOptions.autoAnswering
        let capturedRTCP = Mutex<[[UInt8]]>([])
        answering.peerDatagramTap = { bytes in
            guard case .rtp = MediaPacketKind(datagram: bytes) else { return }
            if RTCPPacket.isRTCP(bytes) { capturedRTCP.withLock { $0.append(bytes) } } else { captured.withLock { $0.append(bytes) } }
        }
        let alice = try await CallTestDevice.make("+15552041", name: "Alice", on: server, options: caller)
        let bob = try await CallTestDevice.make("+15552042", name: "Bob", on: server, options: answering)
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitForConnected() == .relay(.udp))
        let seen = await bob.events.waitFor { if case let .seeing(report) = $0 { report.framesPerSecond > 0 } else { false } }
        #expect(seen != nil, "bob: \(bob.events.log)")
        await alice.engine.hangUp()
        _ = await bob.events.waitForEnd()

        let video = captured.withLock { $0 }.filter { (try? RTPPacket(parsing: $0))?.payloadType == RTPPayloadType.vp8 }
        #expect(video.count >= 15, "a second of video at least")
        // In the clear a VP8 packet starts with Duet's descriptor (0x90 0x80 on a frame's first
        // packet) and a keyframe with the start code 9d 01 2a after its 3-byte frame tag.
        let payloads: [[UInt8]] = video.compactMap { try? RTPPacket(parsing: $0).payload }
        let plain = payloads.filter { payload in
            payload.count > 10 && payload[0] == 0x90 && payload[1] == 0x80 && Array(payload[7...9]) == [0x9D, 0x01, 0x2A]
        }
        #expect(plain.isEmpty, "\(plain.count) keyframes crossed the relay in the clear")

        // The key log's video line for Alice's sending stream opens them, and they are her pictures.
        let lines = try String(contentsOfFile: keyLog, encoding: .utf8).split(separator: "\n")
        let line = try #require(lines.first { $0.contains(" send ") && $0.hasSuffix(" video") })
        let ssrcs = Set(video.compactMap { try? RTPPacket(parsing: $0).ssrc })
        #expect(ssrcs.map { "ssrc=\($0)" } == [String(line.split(separator: " ")[1])], "the key log names the video SSRC on the wire")
        let inline = try #require(line.split(separator: " ").first { $0.hasPrefix("inline:") })
        let key = try #require(Data(base64Encoded: String(inline.dropFirst("inline:".count))))
        let receiver = try SRTPSession(role: .receiver, masterKey: SecureBytes(copying: key))
        var assembler = VP8FrameAssembler()
        let decoder = try VP8Decoder()
        var people: Set<UInt16> = []
        for packet in video {
            guard let rtp = try? RTPPacket(parsing: try receiver.unprotect(packet)) else { continue }
            for frame in try assembler.add(sequence: rtp.sequenceNumber, timestamp: rtp.timestamp, marker: rtp.marker, payload: rtp.payload)
            {
                if let picture = try? decoder.decode(frame.bytes), let tag = VideoTag.read(from: picture) { people.insert(tag.person) }
            }
        }
        #expect(people == [VideoTag.code(for: alice.number)])

        // Alice's sender reports are SRTCP: the E flag set (encrypted) in each index, and the same
        // key opens them into reports from her video SSRC.
        let rtcp = capturedRTCP.withLock { $0 }
        #expect(!rtcp.isEmpty)
        for var packet in rtcp {
            #expect(packet[packet.count - 14] & 0x80 != 0, "an SRTCP index without the E flag")
            try receiver.unprotectRTCP(inPlace: &packet)
            #expect(
                try RTCPPacket.parse(packet).contains {
                    if case let .senderReport(report) = $0 { ssrcs.contains(report.sender) } else { false }
                })
        }
        await alice.close()
        await bob.close()
        try await server.stop()
    }

    /// A device from before video says nothing of video in its sealed answer: the caller's
    /// camera sends it nothing, so it counts no packet as tampered, and the call is a voice call.
    @Test func aDeviceThatDoesNotTakeVideoIsSentNone() async throws {
        let server = try await TestServer.start()
        var caller = CallOptions()
        caller.video = try VideoSettings()
        var old = CallOptions.autoAnswering
        old.takesVideo = false
        let videoPackets = Mutex(0)
        old.peerDatagramTap = { bytes in
            guard case .rtp = MediaPacketKind(datagram: bytes), let packet = try? RTPPacket(parsing: bytes) else { return }
            if packet.payloadType == RTPPayloadType.vp8 || RTCPPacket.isRTCP(bytes) { videoPackets.withLock { $0 += 1 } }
        }
        let alice = try await CallTestDevice.make("+15552043", name: "Alice", on: server, options: caller)
        let bob = try await CallTestDevice.make("+15552044", name: "Bob", on: server, options: old)
        try await alice.engine.place(to: bob.number)
        #expect(await bob.events.waitForConnected() != nil)
        // Three reports of what Bob hears: over two seconds of the call, Alice's camera on.
        #expect(await bob.events.waitFor(count: 3) { if case .hearing = $0 { true } else { false } }, "bob: \(bob.events.log)")
        let heard = bob.events.events.compactMap { if case let .hearing(report) = $0 { report } else { nil } }
        #expect(heard.allSatisfy { $0.tamperedPackets == 0 }, "\(heard)")
        #expect(videoPackets.withLock { $0 } == 0, "video sent to a device that does not take it")
        #expect(alice.events.log.contains("does not take video"), "alice: \(alice.events.log)")
        await alice.engine.hangUp()
        _ = await bob.events.waitForEnd()
        await alice.close()
        await bob.close()
        try await server.stop()
    }
}
