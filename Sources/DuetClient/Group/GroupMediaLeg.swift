import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// This device's one media leg to the SFU (DESIGN §5 "Group": one upstream whatever the
/// group size): a UDP socket, a DTLS-SRTP client association pinned to the fingerprint the
/// server announced over authenticated signaling, and — once it completes — the SRTP
/// sessions the SFU re-protects with. The outgoing voice is SFrame-encrypted before RTP, so
/// the SFU only ever handles ciphertext. Owned by the engine's actor; not thread-safe alone.
final class GroupMediaLeg {
    let socket: MediaSocket
    let media: TransportAddress
    let ssrc: UInt32
    private let endpoint: DTLSEndpoint
    private var sending: SRTPSession?
    private var receiving: SRTPSession?
    private var voice: SyntheticVoice
    private let encoder: OpusEncoder
    private var packetizer: RTPPacketizer
    private var nextTick = ContinuousClock.now
    private(set) var sent = 0
    private(set) var rejected = 0

    var isConnected: Bool { sending != nil }

    init(socket: MediaSocket, media: TransportAddress, certificate: DTLSCertificate, serverFingerprint: DTLSFingerprint,
         number: String) throws {
        self.socket = socket
        self.media = media
        ssrc = UInt32.random(in: 1...UInt32.max)
        // GCM first: the SFU prefers it and it costs one pass per packet.
        endpoint = try DTLSEndpoint(role: .client, certificate: certificate, peerFingerprint: serverFingerprint,
                                    profiles: [.aeadAES128GCM, .aesCM128HMACSHA1_80], initialRetransmissionTimeout: .milliseconds(500))
        voice = SyntheticVoice(number: number)
        encoder = try OpusEncoder(configuration: .init())
        packetizer = RTPPacketizer(ssrc: ssrc)
    }

    /// What the handshake produced for the engine to report.
    enum Outcome {
        case connected
        case failed(String)
    }

    /// Sends the ClientHello.
    func start() -> Outcome? { perform(endpoint.start()) }

    /// A DTLS record from the media port.
    func receiveDTLS(_ bytes: [UInt8]) -> Outcome? { perform(endpoint.receive(bytes)) }

    /// Retransmits the handshake when OpenSSL's timer says so (called every 20 ms).
    func tickIfDue() -> Outcome? {
        guard !isConnected, let wait = endpoint.timeUntilTick else { return nil }
        let now = ContinuousClock.now
        guard wait <= .zero || now >= nextTick + wait else { return nil }
        nextTick = now
        return perform(endpoint.tick())
    }

    private func perform(_ actions: [DTLSAction]) -> Outcome? {
        var outcome: Outcome?
        for action in actions {
            switch action {
            case let .send(datagram): socket.send(datagram, to: media)
            case let .connected(keys):
                do {
                    (sending, receiving) = try keys.makeSessions()
                    outcome = .connected
                } catch { outcome = .failed("SRTP sessions from the DTLS keys: \(error)") }
            case let .failed(error):
                sending = nil; receiving = nil
                outcome = .failed("media leg: \(error)")
            case .closed:
                sending = nil; receiving = nil
                outcome = .failed("the media port closed the DTLS association")
            case .discarded: break
            }
        }
        return outcome
    }

    /// The next 20 ms of this device's voice: Opus, SFrame under the ring's active key, RTP,
    /// SRTP. Nothing is sent before the leg is up and a sender key is active.
    func sendNextFrame(ring: SenderKeyRing) throws {
        guard let sending, ring.epoch != nil else { return }
        let opus = try encoder.encode(voice.nextFrame())
        let packet = packetizer.packetize(try ring.encrypt(opus))
        socket.send(try sending.protect(packet.serialized()), to: media)
        sent += 1
    }

    /// An SRTP packet from the SFU, unprotected and parsed; nil (counted) if it does not check.
    func unprotect(_ bytes: [UInt8]) -> RTPPacket? {
        guard let receiving, let plain = try? receiving.unprotect(bytes), let packet = try? RTPPacket(parsing: plain),
              !packet.payload.isEmpty else {
            rejected += 1
            return nil
        }
        return packet
    }

    /// The SRTP contexts (test hook: they must not outlive the call).
    var srtpSessions: [any AnyObject & Sendable] { [sending, receiving].compactMap { $0 } }

    func close() {
        sending = nil
        receiving = nil
        socket.setHandler(nil)
        socket.close()
    }
}
