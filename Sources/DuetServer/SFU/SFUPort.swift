import DuetMedia
import DuetWire

/// The SFU's half of the media port (docs/group-calls.md): DTLS-SRTP associations with devices
/// and the rooms their SRTP is routed through. RFC 7983 demultiplexing in `MediaRouter`
/// hands it DTLS (first byte 20–63) and RTP/RTCP (128–191); STUN and TURN never reach it.
///
/// Who may have a leg: a handshake from an unknown address starts a server-role
/// `DTLSEndpoint` that accepts any certificate; when it completes, the certificate's
/// fingerprint must be one a participant announced over signaling (`AnnouncedLegs`), and the
/// leg joins that participant's call as that number. Anything else is forgotten. A ClientHello
/// is one spoofable packet, so a stranger's first one is answered statelessly with a
/// HelloVerifyRequest (`DTLSHelloVerifier`): only an address that echoes the cookie made for
/// it — one that receives what is sent there — gets a handshake slot. Even so, at most
/// `maximumHandshakes` may be half-open at once and each gets `handshakeLifetime` to finish.
///
/// A plain value owned by the media loop's single task (like `MediaRouter`, which holds it):
/// no lock. The only state shared with signaling is `AnnouncedLegs`, behind its own mutex.
struct SFUPort {
    /// Half-open DTLS associations at once; more ClientHellos are dropped until some finish
    /// or expire.
    static let maximumHandshakes = 256
    /// Seconds a handshake may take from its first datagram.
    static let handshakeLifetime = 10.0
    /// Preferred first: AEAD_AES_128_GCM costs a third of AES-CM on this hardware (STYLE).
    static let profiles: [SRTPProfile] = [.aeadAES128GCM, .aesCM128HMACSHA1_80]

    private struct Handshake {
        let endpoint: DTLSEndpoint
        let started: Double
    }

    /// A connected association admitted to a room. The endpoint stays to answer a client
    /// that retransmits its last flight, and to hear its close_notify.
    private struct Leg {
        let endpoint: DTLSEndpoint
        let owner: AnnouncedLegs.Leg
        let fingerprint: DTLSFingerprint
    }

    private let certificate: DTLSCertificate
    /// Made on the first ClientHello (its set-up can fail, and most ports never see one).
    private var verifier: DTLSHelloVerifier?
    private let announced: AnnouncedLegs
    private var seenGeneration: UInt64 = 0
    private var handshakes: [TransportAddress: Handshake] = [:]
    private var legs: [TransportAddress: Leg] = [:]
    private var rooms: [SFURoomID: SFURoom] = [:]
    /// What happened to datagrams and associations, for logs and tests.
    private(set) var counts: [String: Int] = [:]

    /// `recordings`: where a meeting room's frames go while its recording is on.
    private let recordings: MeetingRecordings?
    private let witness: MediaWitness?

    init(certificate: DTLSCertificate, announced: AnnouncedLegs, recordings: MeetingRecordings? = nil, witness: MediaWitness? = nil) {
        self.certificate = certificate
        self.announced = announced
        self.recordings = recordings
        self.witness = witness
    }

    /// Datagrams the rooms dropped, by reason, and copies forwarded (for the shutdown log).
    var roomDrops: [String: Int] {
        var drops: [String: Int] = ["copies forwarded": rooms.values.reduce(0) { $0 + $1.forwarded }]
        for room in rooms.values { for (reason, count) in room.drops { drops["room drop \(reason)", default: 0] += count } }
        return drops
    }

    var handshakeCount: Int { handshakes.count }
    var legCount: Int { legs.count }

    /// A DTLS datagram from `address`: continues its association, or starts one if it is a
    /// ClientHello and there is room.
    mutating func receiveDTLS(_ datagram: [UInt8], from address: TransportAddress, now: Double) -> [MediaOutput] {
        if let leg = legs[address] {
            return handle(leg.endpoint.receive(datagram), from: address, now: now)
        }
        if let handshake = handshakes[address] {
            return handle(handshake.endpoint.receive(datagram), from: address, now: now)
        }
        guard Self.isClientHello(datagram) else {
            count("DTLS without an association")
            return []
        }
        guard handshakes.count < Self.maximumHandshakes else {
            count("DTLS handshakes refused at capacity")
            return []
        }
        guard let verifier = verifier ?? (try? DTLSHelloVerifier(certificate: certificate, profiles: Self.profiles)) else {
            count("DTLS endpoint set-up failed")
            return []
        }
        self.verifier = verifier
        switch verifier.receive(datagram, from: address.ip + [UInt8(address.port >> 8), UInt8(address.port & 0xFF)]) {
        case let .challenge(request):
            count("DTLS cookies sent")
            return [.sendToClient(address, request)]
        case .dropped:
            count("DTLS ClientHellos without this address's cookie")
            return []
        case let .accepted(endpoint, actions):
            count("DTLS handshakes started")
            handshakes[address] = Handshake(endpoint: endpoint, started: now)
            return handle(actions, from: address, now: now)
        }
    }

    /// An SRTP (or SRTCP) datagram: routed through its leg's room, else dropped.
    mutating func receiveSRTP(_ datagram: [UInt8], from address: TransportAddress, now: Double) -> [MediaOutput] {
        withdrawStaleLegs()
        guard let leg = legs[address], let room = rooms[leg.owner.room] else {
            count("SRTP from no leg")
            return []
        }
        let deliveries = room.route(datagram, from: address, now: now)
        if deliveries.isEmpty { count("SRTP not forwarded") }
        return deliveries.map { .sendToClient($0.to, $0.bytes) }
    }

    /// Once a second: retransmits handshake flights that are due, ends handshakes past their
    /// lifetime, and drops legs whose announcement was withdrawn.
    mutating func tick(now: Double) -> [MediaOutput] {
        withdrawStaleLegs()
        var outputs: [MediaOutput] = []
        for (address, handshake) in handshakes {
            if now - handshake.started > Self.handshakeLifetime {
                handshakes[address] = nil
                count("DTLS handshakes expired")
            } else {
                outputs += handle(handshake.endpoint.tick(), from: address, now: now)
            }
        }
        return outputs
    }

    // MARK: -

    private mutating func handle(_ actions: [DTLSAction], from address: TransportAddress, now: Double) -> [MediaOutput] {
        var outputs: [MediaOutput] = []
        for action in actions {
            switch action {
            case let .send(datagram):
                outputs.append(.sendToClient(address, datagram))
            case let .connected(keys):
                outputs += admit(keys, at: address, now: now)
            case .failed, .closed:
                handshakes[address] = nil
                removeLeg(at: address)
                count("DTLS associations ended")
            case .discarded:
                count("DTLS datagrams discarded")
            }
        }
        return outputs
    }

    /// A finished handshake: a leg if its certificate was announced, else forgotten. A leg
    /// joining a room with video in it gets the senders asked for keyframes on its behalf.
    private mutating func admit(_ keys: DTLSSRTPKeys, at address: TransportAddress, now: Double) -> [MediaOutput] {
        guard let handshake = handshakes.removeValue(forKey: address) else { return [] }
        withdrawStaleLegs()
        guard let owner = announced.leg(for: keys.peerFingerprint) else {
            count("DTLS from unannounced certificates")
            return []
        }
        // The same certificate from a new address (the device's NAT mapping moved, or it
        // reconnected): the old leg goes.
        for (other, leg) in legs where leg.fingerprint == keys.peerFingerprint { removeLeg(at: other) }
        let room = rooms[owner.room] ?? makeRoom(owner.room)
        do {
            // The room decrypts with what the device sends with (our remoteSending) and
            // encrypts with what it receives with (our localSending).
            try room.join(
                owner.number, address: address, sendingKey: keys.remoteSending, receivingKey: keys.localSending,
                profile: keys.profile, ssrc: owner.ssrc)
        } catch {
            count("SRTP set-up failed")
            return []
        }
        rooms[owner.room] = room
        legs[address] = Leg(endpoint: handshake.endpoint, owner: owner, fingerprint: keys.peerFingerprint)
        count("legs admitted")
        return room.askKeyframes(now: now).map { .sendToClient($0.to, $0.bytes) }
    }

    /// A new room; a meeting's room hands its decrypted frames to the recordings, and every
    /// room shows its frames to the witness, if there is one.
    private func makeRoom(_ id: SFURoomID) -> SFURoom {
        let room = SFURoom()
        let recording = recordings.flatMap { recordings in
            id.meetingCode.map { code in
                { @Sendable (participant: String, packet: RTPPacket) in recordings.receive(code, participant: participant, packet: packet) }
            }
        }
        let witness = self.witness
        if recording != nil || witness != nil {
            room.onFrame = { participant, packet in
                recording?(participant, packet)
                witness?.routed(id, participant, packet)
            }
        }
        return room
    }

    /// Drops every leg whose fingerprint is no longer announced for its call and number (the
    /// participant left, vanished or was removed from the group). Cheap when nothing changed.
    private mutating func withdrawStaleLegs() {
        let generation = announced.generation
        guard generation != seenGeneration else { return }
        seenGeneration = generation
        for (address, leg) in legs where announced.leg(for: leg.fingerprint) != leg.owner {
            removeLeg(at: address)
            count("legs withdrawn")
        }
    }

    private mutating func removeLeg(at address: TransportAddress) {
        guard let leg = legs.removeValue(forKey: address), let room = rooms[leg.owner.room] else { return }
        room.leave(address: address)
        if room.isEmpty { rooms[leg.owner.room] = nil }
    }

    /// A DTLS handshake record (22) carrying a ClientHello (1) in epoch 0: the only datagram
    /// worth an association. Anything else from a stranger is not.
    static func isClientHello(_ datagram: [UInt8]) -> Bool {
        datagram.count > 13 + 12 && datagram[0] == 22 && datagram[3] == 0 && datagram[4] == 0 && datagram[13] == 1
    }

    private mutating func count(_ what: String) {
        counts[what, default: 0] += 1
    }
}
