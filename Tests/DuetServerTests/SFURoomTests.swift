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
            packetizer = RTPPacketizer(ssrc: UInt32(0x1000 + index))
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
        let deliveries = room.route(try people[0].packet(frame, level: 20), from: people[0].address)
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
        #expect(room.route(good, from: TransportAddress(ipv4: "10.0.0.9", port: 1)!).isEmpty)  // not a leg
        #expect(room.route(good, from: people[0].address).isEmpty)  // someone else's keys
        var tampered = good
        tampered[tampered.count - 1] ^= 1
        #expect(room.route(tampered, from: people[1].address).isEmpty)
        #expect(room.route(Array(good.prefix(5)), from: people[1].address).isEmpty)
        #expect(room.route([], from: people[1].address).isEmpty)
        #expect(room.route(good, from: people[1].address).count == 2)
        #expect(room.route(good, from: people[1].address).isEmpty)  // replayed

        // Participant 2 sends with participant 1's SSRC: refused.
        var impostor = RTPPacketizer(ssrc: 0x1001)
        let spoofed = try people[2].out.protect(impostor.packetize([9]).serialized())
        #expect(room.route(spoofed, from: people[2].address).isEmpty)
        #expect(room.drops[.unknownSource] == 1)
        #expect(room.drops[.unauthentic] == 5)
        #expect(room.drops[.foreignSSRC] == 1)

        // A leaver gets nothing more; the others still do.
        room.leave(address: people[2].address)
        #expect(room.route(try people[1].packet([4]), from: people[1].address).map(\.to) == [people[0].address])
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
                ssrc: UInt32(0x1000 + people.firstIndex { $0.number == person.number }!))
        }
        #expect(room.ssrcs == [0x1000: people[0].number, 0x1001: people[1].number, 0x1002: people[2].number])

        // Participant 1 sends under participant 2's SSRC before participant 2 sent anything.
        var impostor = RTPPacketizer(ssrc: 0x1002)
        #expect(room.route(try people[1].out.protect(impostor.packetize([1]).serialized()), from: people[1].address).isEmpty)
        // Nor under an SSRC nobody announced.
        var other = RTPPacketizer(ssrc: 0x4444)
        #expect(room.route(try people[1].out.protect(other.packetize([2]).serialized()), from: people[1].address).isEmpty)
        #expect(room.ssrcs[0x4444] == nil)
        #expect(room.drops[.foreignSSRC] == 2)

        // Under their own SSRCs both reach everyone else.
        #expect(Set(room.route(try people[2].packet([3]), from: people[2].address).map(\.to)) == [people[0].address, people[1].address])
        #expect(Set(room.route(try people[1].packet([4]), from: people[1].address).map(\.to)) == [people[0].address, people[2].address])
    }
}
