import DuetCrypto
import DuetMedia
import DuetWire
import Testing

@Suite("SRTP session")
struct SRTPSessionTests {
    /// libsrtp's own known-answer test (srtp-notes.txt, from libsrtp v2.5.0 srtp_validate()):
    /// the RFC 3711 B.3 master key ‖ salt.
    static let knownKey = SecureHex.bytes("e1f97a0d3e018be0d64fa32c06de41390ec675ad498afeebb6960b3aabe6")
    static let knownRTP = SecureHex.bytes("800f1234decafbadcafebabeabababababababababababababababab")
    static let knownSRTP = SecureHex.bytes("800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb")
    static let knownRTCP = SecureHex.bytes("81c8000bcafebabeabababababababababababababababab")
    static let knownSRTCP = SecureHex.bytes("81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798")

    static func pair(_ profile: SRTPProfile, key: SecureBytes? = nil) throws -> (sender: SRTPSession, receiver: SRTPSession) {
        let key = key ?? SecureBytes(randomCount: profile.keyingMaterialLength)
        return (
            try SRTPSession(profile: profile, role: .sender, masterKey: key),
            try SRTPSession(profile: profile, role: .receiver, masterKey: key)
        )
    }

    /// Serialized Opus-like RTP packets with a 160-byte payload.
    static func packets(_ count: Int, firstSequence: UInt16 = 1000, ssrc: UInt32 = 0x1234_5678) -> [[UInt8]] {
        var packetizer = RTPPacketizer(ssrc: ssrc, initialSequenceNumber: firstSequence, initialTimestamp: 0)
        return (0..<count).map { i in try! packetizer.packetize((0..<160).map { UInt8(truncatingIfNeeded: $0 &+ i) }).serialized() }
    }

    @Test func aesCMMatchesLibsrtpKnownAnswer() throws {
        let (sender, receiver) = try Self.pair(.aesCM128HMACSHA1_80, key: SecureBytes(copying: Self.knownKey))
        #expect(try sender.protect(Self.knownRTP) == Self.knownSRTP)
        #expect(try receiver.unprotect(Self.knownSRTP) == Self.knownRTP)
    }

    @Test func srtcpMatchesLibsrtpKnownAnswer() throws {
        let (sender, receiver) = try Self.pair(.aesCM128HMACSHA1_80, key: SecureBytes(copying: Self.knownKey))
        var rtcp = Self.knownRTCP
        try sender.protectRTCP(inPlace: &rtcp)
        #expect(rtcp == Self.knownSRTCP)
        try receiver.unprotectRTCP(inPlace: &rtcp)
        #expect(rtcp == Self.knownRTCP)
        #expect(throws: SRTPError.replay(tooOld: false)) {
            var replayed = Self.knownSRTCP
            try receiver.unprotectRTCP(inPlace: &replayed)
        }
    }

    @Test(arguments: SRTPProfile.allCases)
    func roundTrip(_ profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        for plain in Self.packets(50, firstSequence: 65_530) {  // crosses the sequence wrap (ROC 0 → 1)
            let protected = try sender.protect(plain)
            #expect(protected.count == plain.count + profile.authenticationTagLength)
            #expect(Array(protected.prefix(12)) == Array(plain.prefix(12)))
            #expect(protected[12..<plain.count] != plain[12...])
            #expect(try receiver.unprotect(protected) == plain)
        }
    }

    /// What unprotect must say about a packet with one bit flipped, derived from where the
    /// bit is: header fields that make the header point past the packet (version, CC, X)
    /// are caught before libsrtp; every other bit is an authentication failure.
    static func expectedError(for packet: [UInt8], tag: Int) -> SRTPError {
        let count = packet.count
        let version = packet[0] >> 6
        if version != 2 { return .malformedHeader(.unsupportedVersion(version)) }
        let csrcCount = Int(packet[0] & 0x0F)
        var header = 12 + 4 * csrcCount
        if header > count { return .malformedHeader(.csrcListBeyondPacket(count: csrcCount, length: count)) }
        if packet[0] & 0x10 != 0 {
            if header + 4 > count { return .malformedHeader(.extensionBeyondPacket(needed: header + 4, length: count)) }
            header += 4 + 4 * (Int(packet[header + 2]) << 8 | Int(packet[header + 3]))
            if header > count { return .malformedHeader(.extensionBeyondPacket(needed: header, length: count)) }
        }
        if header + tag > count { return .tooShort(length: count, minimum: header + tag) }
        return .authenticationFailed
    }

    /// Every single-bit flip of a protected packet is rejected with the error its position
    /// calls for. The receiver has not accepted a packet of this stream yet (first packet of
    /// a call), so libsrtp's replay check, which runs before authentication on known
    /// streams, does not come into play; and no rejected packet may poison the stream.
    @Test(arguments: SRTPProfile.allCases)
    func everySingleBitFlipIsRejected(_ profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let plain = Self.packets(1)[0]
        let protected = try sender.protect(plain)
        var wrong: [String] = []
        var malformed = 0
        for bit in 0..<protected.count * 8 {
            var flipped = protected
            flipped[bit / 8] ^= 0x80 >> UInt8(bit % 8)
            let expected = Self.expectedError(for: flipped, tag: profile.authenticationTagLength)
            if expected != .authenticationFailed { malformed += 1 }
            do {
                _ = try receiver.unprotect(flipped)
                wrong.append("bit \(bit): accepted")
            } catch {
                // (A `catch where` clause here sends Swift 6.3's SIL optimizer into a loop.)
                if error != expected { wrong.append("bit \(bit): \(error), expected \(expected)") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
        #expect(malformed >= 2)  // at least the two version bits took the header path
        #expect(try receiver.unprotect(protected) == plain)
    }

    @Test(arguments: SRTPProfile.allCases)
    func replayedAndTooOldPacketsAreRejected(_ profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let protected = try Self.packets(300).map { try sender.protect($0) }
        _ = try receiver.unprotect(protected[299])
        #expect(throws: SRTPError.replay(tooOld: false)) { try receiver.unprotect(protected[299]) }
        #expect(throws: SRTPError.replay(tooOld: true)) { try receiver.unprotect(protected[0]) }  // 299 behind, window 128
        _ = try receiver.unprotect(protected[250])  // late but inside the window: accepted once
        #expect(throws: SRTPError.replay(tooOld: false)) { try receiver.unprotect(protected[250]) }
    }

    @Test func senderRefusesToProtectTheSameIndexTwice() throws {
        let (sender, _) = try Self.pair(.aesCM128HMACSHA1_80)
        let plain = Self.packets(1)[0]
        _ = try sender.protect(plain)
        #expect(throws: SRTPError.replay(tooOld: false)) { try sender.protect(plain) }
    }

    @Test(arguments: SRTPProfile.allCases)
    func truncatedPacketsAreRejected(_ profile: SRTPProfile) throws {
        let (sender, receiver) = try Self.pair(profile)
        let protected = try sender.protect(Self.packets(1)[0])
        let minimum = 12 + profile.authenticationTagLength
        for cut in 0..<protected.count {
            let expected: SRTPError = cut < minimum ? .tooShort(length: cut, minimum: minimum) : .authenticationFailed
            #expect(throws: expected, "cut at \(cut)") { try receiver.unprotect(Array(protected.prefix(cut))) }
        }
    }

    @Test(arguments: SRTPProfile.allCases)
    func wrongKeyFailsAuthentication(_ profile: SRTPProfile) throws {
        let sender = try SRTPSession(profile: profile, role: .sender, masterKey: SecureBytes(randomCount: profile.keyingMaterialLength))
        let receiver = try SRTPSession(profile: profile, role: .receiver, masterKey: SecureBytes(randomCount: profile.keyingMaterialLength))
        let protected = try sender.protect(Self.packets(1)[0])
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(protected) }
    }

    /// Legs between devices and the server prefer AEAD_AES_128_GCM (docs/group-calls.md); Debian's
    /// libsrtp2 2.5.0 is built on NSS, which provides it. If this fails, the build lacks GCM.
    @Test func thisLibsrtpBuildOffersBothProfiles() {
        #expect(SRTPProfile.aesCM128HMACSHA1_80.isAvailable)
        #expect(SRTPProfile.aeadAES128GCM.isAvailable)
        #expect(SRTPProfile.aeadAES128GCM.keyingMaterialLength == 28)
        #expect(SRTPProfile.aesCM128HMACSHA1_80.keyingMaterialLength == 30)
    }

    @Test func keysOfTheWrongLengthAndBadWindowsAreRefused() {
        #expect(throws: SRTPError.invalidKeyLength(profile: .aeadAES128GCM, expected: 28, actual: 30)) {
            try SRTPSession(profile: .aeadAES128GCM, role: .sender, masterKey: SecureBytes(randomCount: 30))
        }
        #expect(throws: SRTPError.invalidKeyLength(profile: .aesCM128HMACSHA1_80, expected: 30, actual: 16)) {
            try SRTPSession(role: .receiver, masterKey: SecureBytes(randomCount: 16))
        }
        #expect(throws: SRTPError.invalidReplayWindow(10)) {
            try SRTPSession(role: .receiver, masterKey: SecureBytes(randomCount: 30), replayWindow: 10)
        }
    }

    @Test func eachSessionWorksOneWayOnly() throws {
        let (sender, receiver) = try Self.pair(.aesCM128HMACSHA1_80)
        let plain = Self.packets(1)[0]
        #expect(throws: SRTPError.wrongDirection(.receiver, operation: "protect")) { try receiver.protect(plain) }
        let protected = try sender.protect(plain)
        #expect(throws: SRTPError.wrongDirection(.sender, operation: "unprotect")) { try sender.unprotect(protected) }
    }

    @Test func senderRejectsAMalformedRTPHeader() throws {
        let (sender, _) = try Self.pair(.aesCM128HMACSHA1_80)
        #expect(throws: SRTPError.malformedHeader(.tooShort(length: 5))) { try sender.protect([0x80, 0, 0, 0, 0]) }
        #expect(throws: SRTPError.malformedHeader(.unsupportedVersion(0))) { try sender.protect([UInt8](repeating: 0, count: 40)) }
    }

    /// One session shared by several tasks, each sending its own stream (SSRC) in order
    /// (libsrtp requires each stream's packets to be protected roughly in sequence): the
    /// lock must keep libsrtp's stream table consistent, so every packet still unprotects.
    @Test func concurrentProtectFromManyTasks() async throws {
        let (sender, receiver) = try Self.pair(.aesCM128HMACSHA1_80)
        let streams = (0..<4).map { Self.packets(200, ssrc: 0xA000_0000 + UInt32($0)) }
        let protected = try await withThrowingTaskGroup(of: (Int, [[UInt8]]).self) { group in
            for (lane, plain) in streams.enumerated() {
                group.addTask { (lane, try plain.map { try sender.protect($0) }) }
            }
            var all = [[[UInt8]]](repeating: [], count: streams.count)
            for try await (lane, packets) in group { all[lane] = packets }
            return all
        }
        for (lane, packets) in protected.enumerated() {
            for (index, packet) in packets.enumerated() {
                #expect(try receiver.unprotect(packet) == streams[lane][index])
            }
        }
    }

    @Test func errorsSayWhatToDo() {
        #expect(SRTPError.authenticationFailed.description.contains("different keys"))
        #expect(SRTPError.wrongDirection(.sender, operation: "unprotect").description.contains("one session per direction"))
        #expect(SRTPError.library(operation: "srtp_create", code: 2).description.contains("status 2"))
    }
}
