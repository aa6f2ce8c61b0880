import DuetClient
import DuetCrypto
import DuetMedia
import DuetServer
import DuetWire
import Testing

/// The SFU's routing without sockets: legs with real libsrtp sessions, SFrame payloads it
/// cannot read, and every way a packet can be wrong.
@Suite("SFU room")
struct SFURoomTests {
    /// A participant's side of its leg: what it sends with and receives with.
    struct Participant {
        let number: String
        let address: TransportAddress
        let sendingKey = SecureBytes(randomCount: 30)
        let receivingKey = SecureBytes(randomCount: 30)
        let out: SRTPSession
        let inbound: SRTPSession
        var packetizer: RTPPacketizer

        init(_ index: Int) throws {
            number = "+1555280\(index)"
            address = TransportAddress(ipv4: "127.0.0.\(index + 1)", port: 5000)!
            out = try SRTPSession(role: .sender, masterKey: sendingKey)
            inbound = try SRTPSession(role: .receiver, masterKey: receivingKey)
            packetizer = RTPPacketizer(ssrc: UInt32(0x1000 + 0x10 * index))
        }

        mutating func packet(_ payload: [UInt8], level: UInt8? = nil) throws -> [UInt8] {
            let ext = try level.map { try RTPHeaderExtension(oneByteElements: [RTPAudioLevel(level: $0, voiceActivity: true).element()]) }
            return try out.protect(packetizer.packetize(payload, headerExtension: ext).serialized())
        }
    }

    func room(_ count: Int) throws -> (SFURoom, [Participant]) {
        let room = SFURoom()
        let people = try (0..<count).map(Participant.init)
        for person in people {
            try room.join(person.number, address: person.address, sendingKey: person.sendingKey, receivingKey: person.receivingKey)
        }
        return (room, people)
    }

    @Test func aPacketReachesEveryOtherParticipantUnderItsOwnLegKeys() throws {
        var (room, people) = try room(4)
        let ring = try SenderKeyRing()
        _ = ring.rotate(cause: .joined)
        try ring.activate()
        let frame = try ring.encrypt(Array("opus frame".utf8))
        let deliveries = room.route(try people[0].packet(frame, level: 20), from: people[0].address, now: 0)
        #expect(Set(deliveries.map(\.to)) == Set(people.dropFirst().map(\.address)))
        for delivery in deliveries {
            let receiver = people.first { $0.address == delivery.to }!
            let plain = try RTPPacket(parsing: try receiver.inbound.unprotect(delivery.bytes))
            #expect(plain.ssrc == 0x1000)
            #expect(plain.payload == frame, "the SFU forwards the SFrame ciphertext untouched")
        }
        #expect(room.ssrcs[0x1000] == people[0].number)
        #expect(room.activeSpeaker == people[0].number)
        #expect(room.forwarded == 3)
    }

    @Test func badPacketsAreDroppedAndCountedAndTheRoomCarriesOn() throws {
        var (room, people) = try room(3)
        let good = try people[1].packet([1, 2, 3])
        #expect(room.route(good, from: TransportAddress(ipv4: "10.0.0.9", port: 1)!, now: 0).isEmpty)  // not a leg
        #expect(room.route(good, from: people[0].address, now: 0).isEmpty)  // someone else's keys
        var tampered = good
        tampered[tampered.count - 1] ^= 1
        #expect(room.route(tampered, from: people[1].address, now: 0).isEmpty)
        #expect(room.route(Array(good.prefix(5)), from: people[1].address, now: 0).isEmpty)
        #expect(room.route([], from: people[1].address, now: 0).isEmpty)
        #expect(room.route(good, from: people[1].address, now: 0).count == 2)
        #expect(room.route(good, from: people[1].address, now: 0).isEmpty)  // replayed

        // Participant 2 sends with participant 1's SSRC: refused.
        var impostor = RTPPacketizer(ssrc: 0x1010)
        let spoofed = try people[2].out.protect(impostor.packetize([9]).serialized())
        #expect(room.route(spoofed, from: people[2].address, now: 0).isEmpty)
        #expect(room.drops[.unknownSource] == 1)
        #expect(room.drops[.unauthentic] == 5)
        #expect(room.drops[.foreignSSRC] == 1)

        // A leaver gets nothing more; the others still do.
        room.leave(address: people[2].address)
        #expect(room.route(try people[1].packet([4]), from: people[1].address, now: 0).map(\.to) == [people[0].address])
        #expect(room.participants == [people[0].number, people[1].number])
    }

    /// A meeting's legs announce their SSRC over signaling and everyone is told whose is whose:
    /// such a leg holds its SSRC before it sends anything, and may send no other.
    @Test func aLegWithAnAnnouncedSSRCHoldsItFromTheStartAndSendsNoOther() throws {
        let room = SFURoom()
        var people = try (0..<3).map(Participant.init)
        for person in people {
            try room.join(
                person.number, address: person.address, sendingKey: person.sendingKey, receivingKey: person.receivingKey,
                ssrc: UInt32(0x1000 + 0x10 * people.firstIndex { $0.number == person.number }!))
        }
        #expect(room.ssrcs == [0x1000: people[0].number, 0x1010: people[1].number, 0x1020: people[2].number])

        // Participant 1 sends under participant 2's SSRC before participant 2 sent anything.
        var impostor = RTPPacketizer(ssrc: 0x1020)
        #expect(room.route(try people[1].out.protect(impostor.packetize([1]).serialized()), from: people[1].address, now: 0).isEmpty)
        // Nor under an SSRC nobody announced.
        var other = RTPPacketizer(ssrc: 0x4444)
        #expect(room.route(try people[1].out.protect(other.packetize([2]).serialized()), from: people[1].address, now: 0).isEmpty)
        #expect(room.ssrcs[0x4444] == nil)
        #expect(room.drops[.foreignSSRC] == 2)

        // Under their own SSRCs both reach everyone else.
        #expect(
            Set(room.route(try people[2].packet([3]), from: people[2].address, now: 0).map(\.to)) == [people[0].address, people[1].address])
        #expect(
            Set(room.route(try people[1].packet([4]), from: people[1].address, now: 0).map(\.to)) == [people[0].address, people[2].address])
    }

    // MARK: - Video feedback (docs/video.md "Group calls")

    func video(_ person: Participant, ssrc: UInt32 = 0x2000, sequence: UInt16) throws -> [UInt8] {
        try person.out.protect(
            RTPPacket(payloadType: 96, sequenceNumber: sequence, timestamp: 9_000, ssrc: ssrc, payload: [0x80, sequence.low]).serialized())
    }

    /// `person` sends audio on `ssrc`, which lets it send video on `ssrc` + 1.
    func claimAudio(_ room: SFURoom, _ person: Participant, ssrc: UInt32) throws {
        let audio = try person.out.protect(
            RTPPacket(payloadType: 111, sequenceNumber: 1, timestamp: 0, ssrc: ssrc, payload: [1]).serialized())
        #expect(!room.route(audio, from: person.address, now: 0).isEmpty)
    }

    func rtcp(_ person: Participant, _ packets: [RTCPPacket]) throws -> [UInt8] {
        var bytes = RTCPPacket.encode([.receiverReport(sender: 0x1000 + UInt32(person.address.port), reports: [])] + packets)
        try person.out.protectRTCP(inPlace: &bytes)
        return bytes
    }

    /// What `person` reads of the RTCP deliveries to it.
    func feedback(_ deliveries: [SFURoom.Delivery], to person: Participant) throws -> [RTCPPacket] {
        try deliveries.filter { $0.to == person.address && RTCPPacket.isRTCP($0.bytes) }.flatMap { delivery in
            var bytes = delivery.bytes
            try person.inbound.unprotectRTCP(inPlace: &bytes)
            return try RTCPPacket.parse(bytes)
        }
    }

    /// A NACK is answered from the packets the room kept — a few times per receiver and packet — and
    /// what it did not keep is asked of the sender; PLIs reach the sender at most one per half
    /// second however many receivers ask; a BYE goes to everyone else, and only the stream's own.
    @Test func videoFeedbackIsAnsweredPassedOnOrCoalesced() throws {
        let (room, people) = try room(3)
        try claimAudio(room, people[0], ssrc: 0x1FFF)
        for sequence in UInt16(1)...5 {
            #expect(room.route(try video(people[0], sequence: sequence), from: people[0].address, now: 0).count == 2)
        }
        let nack = RTCPPacket.nack(sender: 0x1001, media: 0x2000, lost: [2, 3, 99])
        let answered = room.route(try rtcp(people[1], [nack]), from: people[1].address, now: 1)
        let resent = try answered.filter { $0.to == people[1].address && !RTCPPacket.isRTCP($0.bytes) }
            .map { try RTPPacket(parsing: try people[1].inbound.unprotect($0.bytes)).sequenceNumber }
        #expect(resent == [2, 3])
        #expect(try feedback(answered, to: people[0]) == [.nack(sender: 0x1001, media: 0x2000, lost: [99])])
        // Asked again (a NACK or its answer was lost), the room answers a few times; then it
        // repeats itself no more for this receiver, and the sender is asked.
        for round in 1..<RetransmissionBuffer.maximumResends {
            let repeated = room.route(try rtcp(people[1], [nack]), from: people[1].address, now: 1 + 0.01 * Double(round))
            #expect(repeated.filter { $0.to == people[1].address }.count == 2)
        }
        let again = room.route(try rtcp(people[1], [nack]), from: people[1].address, now: 1.1)
        #expect(again.allSatisfy { $0.to == people[0].address })
        #expect(try feedback(again, to: people[0]) == [.nack(sender: 0x1001, media: 0x2000, lost: [2, 3, 99])])
        // Another receiver gets its own answer.
        #expect(room.route(try rtcp(people[2], [nack]), from: people[2].address, now: 1.2).filter { $0.to == people[2].address }.count == 2)

        // Two receivers ask for a keyframe at once: one PLI reaches the sender; later, another.
        let pli = { (who: Int) in RTCPPacket.pictureLoss(sender: UInt32(0x1000 + who), media: 0x2000) }
        let first = room.route(try rtcp(people[1], [pli(1)]), from: people[1].address, now: 2)
        let second = room.route(try rtcp(people[2], [pli(2)]), from: people[2].address, now: 2.1)
        let later = room.route(try rtcp(people[2], [pli(2)]), from: people[2].address, now: 2.6)
        #expect(try feedback(first, to: people[0]) == [pli(1)] && second.isEmpty && (try feedback(later, to: people[0])) == [pli(2)])

        // A camera off: the sender's BYE to both others; a BYE naming someone else's stream, to nobody.
        let bye = room.route(try rtcp(people[0], [.goodbye(sources: [0x2000])]), from: people[0].address, now: 3)
        #expect(Set(bye.map(\.to)) == [people[1].address, people[2].address])
        #expect(room.route(try rtcp(people[1], [.goodbye(sources: [0x2000])]), from: people[1].address, now: 3).isEmpty)
        // SRTCP that does not authenticate is dropped and counted.
        var forged = try rtcp(people[1], [pli(1)])
        forged[forged.count - 1] ^= 1
        #expect(room.route(forged, from: people[1].address, now: 4).isEmpty && room.drops[.unauthentic] == 1)
    }

    /// A video SSRC is its sender's audio SSRC plus one: a member cannot take another's
    /// video SSRC before them (and so black out their camera for the call).
    @Test func nobodyTakesAnothersVideoSSRC() throws {
        let (room, people) = try room(3)
        try claimAudio(room, people[0], ssrc: 0x3000)
        #expect(room.route(try video(people[1], ssrc: 0x3001, sequence: 1), from: people[1].address, now: 0).isEmpty)
        #expect(room.drops[.foreignSSRC] == 1)
        #expect(room.route(try video(people[0], ssrc: 0x3001, sequence: 1), from: people[0].address, now: 0).count == 2)
        // Nor by claiming it first with a voice packet, before the owner's camera sends.
        try claimAudio(room, people[0], ssrc: 0x5000)
        var squatter = RTPPacketizer(ssrc: 0x5001)
        #expect(room.route(try people[2].out.protect(squatter.packetize([7]).serialized()), from: people[2].address, now: 0).isEmpty)
        #expect(room.route(try video(people[0], ssrc: 0x5001, sequence: 1), from: people[0].address, now: 0).count == 2)
        // Nor a video SSRC next to nobody's audio.
        #expect(room.route(try video(people[2], ssrc: 0x4001, sequence: 1), from: people[2].address, now: 0).isEmpty)
    }

    /// Someone joins a room with video in it: each sender is asked for a keyframe on their
    /// behalf, within the stream's PLI budget.
    @Test func aNewcomerGetsKeyframesAskedForOnItsBehalf() throws {
        let (room, people) = try room(3)
        try claimAudio(room, people[0], ssrc: 0x1FFF)
        _ = room.route(try video(people[0], sequence: 1), from: people[0].address, now: 0)
        let asked = room.askKeyframes(now: 5)
        #expect(try feedback(asked, to: people[0]) == [.pictureLoss(sender: 0, media: 0x2000)] && asked.count == 1)
        #expect(room.askKeyframes(now: 5.1).isEmpty, "a second newcomer at once costs no second keyframe")
    }

    /// Frame `frame` of an L1T3 stream (two packets, sequence numbers from 1), as `person` sends it.
    func layeredVideo(_ person: Participant, frame: Int) throws -> [[UInt8]] {
        let layer: UInt8 = frame == 0 ? 0 : [0, 2, 1, 2][frame % 4]
        return try (0..<2).map { part in
            let marking = RTPFrameMarking(
                startOfFrame: part == 0, endOfFrame: part == 1, independent: frame == 0, discardable: layer == 2,
                baseLayerSync: layer == 1, temporalLayer: layer)
            return try person.out.protect(
                RTPPacket(
                    payloadType: 96, sequenceNumber: UInt16(1 + frame * 2 + part), timestamp: UInt32(frame * 6_000), ssrc: 0x2000,
                    marker: part == 1, headerExtension: try RTPHeaderExtension(oneByteElements: [marking.element()]),
                    payload: [0x80, UInt8(part)]
                ).serialized())
        }
    }

    /// A receiver whose leg loses much (it NACKs a sixth of what it is sent, and more as it is sent less) is sent fewer
    /// temporal layers, numbered without gaps, while another keeps getting every frame; once
    /// its leg is clean it gets them all again.
    @Test func aWeakReceiverIsSentFewerLayersAndTheOthersEverything() throws {
        let (room, people) = try room(3)
        try claimAudio(room, people[0], ssrc: 0x1FFF)
        var received: [[(sequence: UInt16, layer: UInt8)]] = [[], [], []]
        func second(_ index: Int, weakAsks: Bool) throws {
            for frame in (index * 15)..<((index + 1) * 15) {
                let now = Double(frame) / 15
                for bytes in try layeredVideo(people[0], frame: frame) {
                    for delivery in room.route(bytes, from: people[0].address, now: now) {
                        guard let who = people.firstIndex(where: { $0.address == delivery.to }) else { continue }
                        let packet = try RTPPacket(parsing: try people[who].inbound.unprotect(delivery.bytes))
                        received[who].append((packet.sequenceNumber, try packet.frameMarking()?.temporalLayer ?? 9))
                    }
                }
                if weakAsks, frame % 3 == 0, let last = received[1].last {
                    _ = room.route(
                        try rtcp(people[1], [.nack(sender: 0x1001, media: 0x2000, lost: [last.sequence])]), from: people[1].address,
                        now: now)
                }
            }
        }
        try second(0, weakAsks: true)
        let firstSecond = received[1].count
        for index in 1..<3 { try second(index, weakAsks: true) }
        let weak = received[1][firstSecond...]
        #expect(!weak.contains { $0.layer == 2 } && weak.contains { $0.layer == 0 }, "layer 2 still sent to the weak receiver: \(weak)")
        #expect(!received[1].suffix(5).contains { $0.layer == 1 }, "then layer 1 no more either")
        #expect(
            received[2].count == 90 && received[2].map(\.sequence) == (1...90).map { UInt16($0) },
            "the other receiver gets everything as sent")
        let numbers = received[1].map(\.sequence)
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 &+ 1 }, "renumbered without gaps: \(numbers)")
        for index in 3..<7 { try second(index, weakAsks: false) }
        #expect(received[1].suffix(16).contains { $0.layer == 2 }, "all layers again once the leg is clean")
    }

    /// A sender's leg replaced (it moved) goes on under the same SSRC and numbers: a receiver
    /// that was sent fewer layers goes on with the numbering it had — started afresh it would
    /// jump back, under SRTP indices already used.
    @Test func aSenderOnANewLegKeepsEachReceiversNumbering() throws {
        let (room, people) = try room(2)
        try claimAudio(room, people[0], ssrc: 0x1FFF)
        var seen: [UInt16] = []
        func send(_ frames: Range<Int>, from sender: Participant, asks: Bool) throws {
            for frame in frames {
                for bytes in try layeredVideo(sender, frame: frame) {
                    for delivery in room.route(bytes, from: sender.address, now: Double(frame) / 15) {
                        seen.append(try RTPPacket(parsing: try people[1].inbound.unprotect(delivery.bytes)).sequenceNumber)
                    }
                }
                if asks, frame % 3 == 0, let last = seen.last {
                    _ = room.route(
                        try rtcp(people[1], [.nack(sender: 0x1001, media: 0x2000, lost: [last])]), from: people[1].address,
                        now: Double(frame) / 15)
                }
            }
        }
        try send(0..<45, from: people[0], asks: true)
        let before = seen.count
        // The same member on a new leg: new address, new keys, the same SSRCs and numbering.
        let moved = try Participant(7)
        room.leave(address: people[0].address)
        try room.join(people[0].number, address: moved.address, sendingKey: moved.sendingKey, receivingKey: moved.receivingKey)
        // Its voice goes on too (the next number: the receiver's SRTP has seen the first).
        let voice = try moved.out.protect(
            RTPPacket(payloadType: 111, sequenceNumber: 2, timestamp: 960, ssrc: 0x1FFF, payload: [1]).serialized())
        #expect(!room.route(voice, from: moved.address, now: 3).isEmpty)
        try send(45..<60, from: moved, asks: false)
        #expect(seen.count > before, "nothing reached the receiver after the sender moved")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $1 == $0 &+ 1 }, "\(seen)")
    }

    /// A sender whose upload loses packets does not lower what anyone is sent: the gaps its
    /// receivers NACK were never sent by the room, so they are not their legs' loss.
    @Test func aSendersLossyUploadLowersNobodysLayers() throws {
        let (room, people) = try room(2)
        try claimAudio(room, people[0], ssrc: 0x1FFF)
        var layers: [UInt8] = []
        for frame in 0..<60 {
            let now = Double(frame) / 15
            let packets = try layeredVideo(people[0], frame: frame)
            // The second packet of each frame is lost on the way to the SFU; the receiver NACKs it.
            for delivery in room.route(packets[0], from: people[0].address, now: now) where frame >= 40 {
                layers.append(try RTPPacket(parsing: try people[1].inbound.unprotect(delivery.bytes)).frameMarking()?.temporalLayer ?? 9)
            }
            let lost = UInt16(1 + frame * 2 + 1)
            _ = room.route(try rtcp(people[1], [.nack(sender: 0x1001, media: 0x2000, lost: [lost])]), from: people[1].address, now: now)
        }
        #expect(layers.contains(2), "the receiver was lowered for the sender's loss: \(layers)")
    }

    /// One receiver asking for keyframes again and again gets one a second from a sender, not
    /// two.
    @Test func oneReceiverCannotMakeASenderSendKeyframesForEveryone() throws {
        let (room, people) = try room(2)
        try claimAudio(room, people[0], ssrc: 0x1FFF)
        _ = room.route(try video(people[0], sequence: 1), from: people[0].address, now: 0)
        var passed = 0
        for tick in 0..<40 {
            let asked = room.route(
                try rtcp(people[1], [.pictureLoss(sender: 0x1001, media: 0x2000)]), from: people[1].address, now: Double(tick) / 10)
            passed += try feedback(asked, to: people[0]).count
        }
        #expect(passed == 4, "\(passed) PLIs passed in 4 s")
    }

    /// A member sending many video streams gets only its first kept: memory per leg is bounded;
    /// NACKs about the others go to the member itself.
    @Test func onlyEachLegsFirstVideoStreamIsKept() throws {
        let (room, people) = try room(2)
        for ssrc in UInt32(0x2000)...0x2003 {
            try claimAudio(room, people[0], ssrc: ssrc - 1)
            _ = room.route(try video(people[0], ssrc: ssrc, sequence: 7), from: people[0].address, now: 0)
        }
        let first = room.route(try rtcp(people[1], [.nack(sender: 1, media: 0x2000, lost: [7])]), from: people[1].address, now: 1)
        #expect(first.count == 1 && first.first.map { !RTCPPacket.isRTCP($0.bytes) } == true, "answered from the room's packets")
        let other = room.route(try rtcp(people[1], [.nack(sender: 1, media: 0x2003, lost: [7])]), from: people[1].address, now: 1)
        #expect(try feedback(other, to: people[0]) == [.nack(sender: 1, media: 0x2003, lost: [7])])
    }
}

extension UInt16 {
    fileprivate var low: UInt8 { UInt8(truncatingIfNeeded: self) }
}
