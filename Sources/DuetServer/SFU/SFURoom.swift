import DuetCrypto
import DuetMedia
import DuetWire

/// One group call's media router (docs/group-calls.md). Each participant has a leg: the SRTP
/// keys of its DTLS-SRTP association with the media port and its UDP address. A packet from a
/// leg is checked and decrypted once with that leg's keys, then protected again for every
/// other leg. The payload inside is SFrame ciphertext under the members' sender keys, which
/// the server never holds: it routes by SSRC and reads only the RTP header (and the RFC 6464
/// audio level, to name the active speaker).
///
/// Video (docs/video.md "Group calls"): a video SSRC must be its leg's audio SSRC plus one;
/// each leg's first video stream is kept a little, as sent to each receiver
/// (`SFUVideoStream`), so the room answers a receiver's NACK itself with the same bytes; PLIs
/// go on to the sender, at most one per stream per half second; a BYE (a camera off) goes to
/// everyone else. Other RTCP (reports) ends here.
///
/// Not thread-safe: the media router owns a room and calls it from one event loop.
public final class SFURoom {
    /// Why a packet was dropped; counted per room.
    public enum Drop: Hashable, Sendable {
        /// From an address that is not a leg of this room.
        case unknownSource
        /// Failed SRTP authentication or replay check on its leg.
        case unauthentic
        /// Not a parseable RTP packet after decryption.
        case malformed
        /// An SSRC another leg already sends, or not the one its participant announced: no
        /// participant may speak as another.
        case foreignSSRC
    }

    /// A packet to send: bytes protected for `to`'s leg.
    public struct Delivery {
        public let bytes: [UInt8]
        public let to: TransportAddress
    }

    private struct Leg {
        let participant: String
        let address: TransportAddress
        /// Decrypts what the participant sends (its SRTP sending key).
        let inbound: SRTPSession
        /// Encrypts what we forward to it (its SRTP receiving key).
        let outbound: SRTPSession
        var ssrcs: Set<UInt32> = []
        /// The only SSRC this leg may send, if its participant announced one (meetings).
        let announcedSSRC: UInt32?
        /// Latest RFC 6464 level, in -dBov (0 loudest, 127 silence).
        var level: UInt8 = 127
        /// The one video stream of this leg the room keeps packets of.
        var videoSSRC: UInt32?
    }

    private var legs: [TransportAddress: Leg] = [:]
    private var ssrcOwner: [UInt32: TransportAddress] = [:]
    private var videoStreams: [UInt32: SFUVideoStream] = [:]
    /// How well each leg takes the video sent to it: how many layers it gets.
    private var downlinks: [TransportAddress: SFUDownlink] = [:]
    /// The video streams of legs that left, newest last: a member's successor leg (it moved)
    /// goes on under the same SSRC and sequence numbers, and each receiver must go on seeing
    /// the numbering it saw — started afresh, it would jump back by the frames dropped for that
    /// receiver, under SRTP indices already used.
    private var departedStreams: [(ssrc: UInt32, stream: SFUVideoStream)] = []
    static let departedStreamsKept = 8
    public private(set) var drops: [Drop: Int] = [:]
    public private(set) var forwarded = 0
    /// Sees each authentic frame once, after the client-to-server SRTP is opened, with its
    /// sender: a meeting's recorder (meetings are cloud-encrypted), and a `MediaWitness` when
    /// one is set (group-call payloads are SFrame ciphertext even here).
    public var onFrame: ((_ participant: String, _ packet: RTPPacket) -> Void)?

    public init() {}

    public var participants: [String] { legs.values.map(\.participant).sorted() }

    public var isEmpty: Bool { legs.isEmpty }

    /// Adds a participant's leg with the two SRTP master keys (key ‖ salt) its DTLS-SRTP
    /// handshake gave: the one it sends with and the one it receives with, for the profile
    /// the handshake agreed. With `ssrc` (announced over signaling, as in a meeting) the leg
    /// holds that SSRC from the start and may send no other but its video on the SSRC after
    /// it; without it (a group call, whose frames SFrame authenticates end to end) a leg
    /// claims the SSRCs it sends first.
    public func join(
        _ participant: String, address: TransportAddress, sendingKey: SecureBytes, receivingKey: SecureBytes,
        profile: SRTPProfile = .aesCM128HMACSHA1_80, ssrc: UInt32? = nil
    ) throws {
        leave(address: address)
        var leg = Leg(
            participant: participant, address: address,
            inbound: try SRTPSession(profile: profile, role: .receiver, masterKey: sendingKey),
            outbound: try SRTPSession(profile: profile, role: .sender, masterKey: receivingKey),
            announcedSSRC: ssrc)
        if let ssrc {
            // Signaling lets nobody else in a meeting announce it, so an earlier owner can only be
            // this participant's own older leg: it loses the claim (and cannot clear it on leaving).
            if let squatter = ssrcOwner[ssrc] { legs[squatter]?.ssrcs.remove(ssrc) }
            ssrcOwner[ssrc] = address
            leg.ssrcs = [ssrc]
        }
        legs[address] = leg
    }

    /// Removes a leg (left, or vanished); its SRTP contexts are freed with it.
    public func leave(address: TransportAddress) {
        guard let leg = legs.removeValue(forKey: address) else { return }
        for ssrc in leg.ssrcs { ssrcOwner[ssrc] = nil }
        if let video = leg.videoSSRC, let stream = videoStreams.removeValue(forKey: video) {
            departedStreams.removeAll { $0.ssrc == video }
            departedStreams.append((video, stream))
            if departedStreams.count > Self.departedStreamsKept { departedStreams.removeFirst() }
        }
        downlinks[address] = nil
        for ssrc in videoStreams.keys { videoStreams[ssrc]?.forget(address) }
        for index in departedStreams.indices { departedStreams[index].stream.forget(address) }
    }

    /// Whom each SSRC belongs to, for clients to map streams to members.
    public var ssrcs: [UInt32: String] {
        ssrcOwner.compactMapValues { legs[$0]?.participant }
    }

    /// The participant with the loudest recent audio level, if anyone is above silence.
    public var activeSpeaker: String? {
        legs.values.filter { $0.level < 127 }.min { $0.level < $1.level }?.participant
    }

    /// Routes one datagram at `now` (seconds, any steady clock): the copies to send, one per
    /// other leg for media, fewer for RTCP. Anything wrong with the datagram drops it
    /// (counted), never the room.
    public func route(_ datagram: [UInt8], from source: TransportAddress, now: Double) -> [Delivery] {
        guard var leg = legs[source] else { return drop(.unknownSource) }
        if RTCPPacket.isRTCP(datagram) { return routeRTCP(datagram, from: source, leg: leg, now: now) }
        var packet = datagram
        do { try leg.inbound.unprotect(inPlace: &packet) } catch { return drop(.unauthentic) }
        guard let header = try? RTPPacket(parsing: packet) else { return drop(.malformed) }
        // A video SSRC is its sender's audio SSRC plus one: nobody may take another's first.
        let isVideo = header.payloadType == RTPPayloadType.vp8
        if let only = leg.announcedSSRC, header.ssrc != (isVideo ? only &+ 1 : only) { return drop(.foreignSSRC) }
        if let owner = ssrcOwner[header.ssrc], owner != source { return drop(.foreignSSRC) }
        if isVideo, ssrcOwner[header.ssrc &- 1] != source { return drop(.foreignSSRC) }
        // Nor with a voice packet first, before its owner's camera sends.
        if !isVideo, let neighbour = ssrcOwner[header.ssrc &- 1], neighbour != source { return drop(.foreignSSRC) }
        if ssrcOwner[header.ssrc] == nil {
            ssrcOwner[header.ssrc] = source
            leg.ssrcs.insert(header.ssrc)
        }
        if let level = (try? header.audioLevel()) ?? nil { leg.level = level.level }
        let keepsVideo = isVideo && leg.videoSSRC ?? header.ssrc == header.ssrc
        if keepsVideo { leg.videoSSRC = header.ssrc }
        legs[source] = leg
        onFrame?(leg.participant, header)
        if keepsVideo { return forwardVideo(packet, header, from: source, now: now) }
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(legs.count - 1)
        for (address, receiver) in legs where address != source {
            guard let copy = try? receiver.outbound.protect(packet) else { continue }
            deliveries.append(Delivery(bytes: copy, to: address))
        }
        forwarded += deliveries.count
        return deliveries
    }

    /// A packet of a leg's video stream to each other leg: only the temporal layers that leg
    /// takes, renumbered past what it is not sent (`SFULayerFilter`), kept as sent to answer
    /// its NACKs.
    private func forwardVideo(_ packet: [UInt8], _ header: RTPPacket, from source: TransportAddress, now: Double) -> [Delivery] {
        let marking = (try? header.frameMarking()) ?? nil
        var stream = videoStreams.removeValue(forKey: header.ssrc) ?? departedStream(header.ssrc) ?? SFUVideoStream()
        defer { videoStreams[header.ssrc] = stream }
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(legs.count - 1)
        for (address, receiver) in legs where address != source {
            let layers = downlinks[address, default: SFUDownlink()].layers(at: now)
            guard let sequence = stream.sequence(of: header.sequenceNumber, marking: marking, for: address, layers: layers) else {
                continue
            }
            var renumbered = packet
            if sequence != header.sequenceNumber { (renumbered[2], renumbered[3]) = (UInt8(sequence >> 8), UInt8(sequence & 0xFF)) }
            guard let copy = try? receiver.outbound.protect(renumbered) else { continue }
            stream.keep(copy, sequence: sequence, for: address)
            downlinks[address]?.sent += 1
            deliveries.append(Delivery(bytes: copy, to: address))
        }
        forwarded += deliveries.count
        return deliveries
    }

    /// One compound RTCP packet from a receiver (SRTCP on its leg): NACKs answered from the
    /// stream's packets kept, what is not kept asked of the sender; PLIs passed on, coalesced;
    /// a BYE for the leg's own stream passed to everyone else.
    private func routeRTCP(_ datagram: [UInt8], from source: TransportAddress, leg: Leg, now: Double) -> [Delivery] {
        var plain = datagram
        do { try leg.inbound.unprotectRTCP(inPlace: &plain) } catch { return drop(.unauthentic) }
        guard let packets = try? RTCPPacket.parse(plain) else { return drop(.malformed) }
        var deliveries: [Delivery] = []
        for packet in packets {
            switch packet {
            case let .nack(sender, media, lost):
                guard let owner = ssrcOwner[media], owner != source else { continue }
                var unanswered: [UInt16] = []
                for sequence in lost.prefix(SFUVideoStream.capacity) {
                    if let sent = videoStreams[media]?.answer(sequence, for: source) {
                        // Sent by the room and lost on the way: the receiver's own leg's loss
                        // (a gap from the sender's upload is not answered from here).
                        downlinks[source]?.asked(1)
                        deliveries.append(Delivery(bytes: sent, to: source))
                    } else if let stream = videoStreams[media] {
                        // Renumbered for this receiver: the sender knows the packet by its own number.
                        if let original = stream.senderSequence(of: sequence, for: source) { unanswered.append(original) }
                    } else {
                        unanswered.append(sequence)
                    }
                }
                if !unanswered.isEmpty { deliveries += rtcp(.nack(sender: sender, media: media, lost: unanswered), to: [owner]) }
            case let .pictureLoss(_, media):
                guard let owner = ssrcOwner[media], owner != source,
                    videoStreams[media]?.passesPictureLoss(from: source, at: now) ?? false
                else { continue }
                deliveries += rtcp(packet, to: [owner])
            case let .goodbye(sources) where sources.allSatisfy({ ssrcOwner[$0] == source }):
                deliveries += rtcp(packet, to: legs.keys.filter { $0 != source })
            default:
                continue
            }
        }
        forwarded += deliveries.count
        return deliveries
    }

    /// The stream `ssrc` had before its leg left, if it is still kept: its successor takes it up.
    private func departedStream(_ ssrc: UInt32) -> SFUVideoStream? {
        guard let index = departedStreams.firstIndex(where: { $0.ssrc == ssrc }) else { return nil }
        return departedStreams.remove(at: index).stream
    }

    /// A newcomer's first pictures: every video stream's sender is asked for a keyframe now
    /// (within the streams' PLI budget), so the newcomer does not wait for its own receivers
    /// to find they need one and ask.
    public func askKeyframes(now: Double) -> [Delivery] {
        var deliveries: [Delivery] = []
        for (ssrc, owner) in ssrcOwner where videoStreams[ssrc] != nil {
            guard videoStreams[ssrc]?.passesPictureLoss(from: nil, at: now) == true else { continue }
            deliveries += rtcp(.pictureLoss(sender: 0, media: ssrc), to: [owner])
        }
        forwarded += deliveries.count
        return deliveries
    }

    /// `packet` alone in a compound, as SRTCP for each of `addresses`' legs.
    private func rtcp(_ packet: RTCPPacket, to addresses: [TransportAddress]) -> [Delivery] {
        addresses.compactMap { address in
            var bytes = RTCPPacket.encode([packet])
            guard let leg = legs[address], (try? leg.outbound.protectRTCP(inPlace: &bytes)) != nil else { return nil }
            return Delivery(bytes: bytes, to: address)
        }
    }

    private func drop(_ reason: Drop) -> [Delivery] {
        drops[reason, default: 0] += 1
        return []
    }
}
