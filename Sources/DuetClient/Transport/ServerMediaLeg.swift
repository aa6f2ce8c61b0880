import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// This device's one media leg to the server's SFU (DESIGN §5 "Group" and "Meeting": one
/// upstream whatever the number of people): a UDP socket, a DTLS-SRTP client association
/// pinned to the fingerprint the server announced over authenticated signaling, and — once it
/// completes — the SRTP sessions the SFU re-protects with. In a group call each frame is
/// SFrame-encrypted before RTP (`seal`), so the SFU only handles ciphertext; in a meeting it is
/// not, and the server can read it. Owned by the engine's actor; not thread-safe alone.
final class ServerMediaLeg {
    let socket: MediaSocket
    let media: TransportAddress
    let ssrc: UInt32
    private let endpoint: DTLSEndpoint
    private var sending: SRTPSession?
    private var receiving: SRTPSession?
    private var voice: VoiceEncoder
    private var packetizer: RTPPacketizer
    private var nextTick = ContinuousClock.now
    private(set) var sent = 0
    /// Sends silence instead of the voice (the voice keeps its place in time).
    var muted = false
    private(set) var rejected = 0

    var isConnected: Bool { sending != nil }

    /// `voice`: whose synthetic voice to send (a number, or a guest's id).
    init(socket: MediaSocket, media: TransportAddress, certificate: DTLSCertificate, serverFingerprint: DTLSFingerprint,
         voice number: String, ssrc: UInt32 = .random(in: 1...UInt32.max), opusComplexity: Int = 10,
         voiceEncoding: VoiceEncoder.Mode = .live) throws {
        self.socket = socket
        self.media = media
        self.ssrc = ssrc
        // GCM first: the SFU prefers it and it costs one pass per packet.
        endpoint = try DTLSEndpoint(role: .client, certificate: certificate, peerFingerprint: serverFingerprint,
                                    profiles: [.aeadAES128GCM, .aesCM128HMACSHA1_80], initialRetransmissionTimeout: .milliseconds(500),
                                    maximumRetransmissions: Self.handshakeRetransmissions)
        voice = try VoiceEncoder(number: number, complexity: opusComplexity, mode: voiceEncoding)
        packetizer = RTPPacketizer(ssrc: ssrc)
    }

    /// Flights resent before the leg gives up: the timer doubles from 0.5 s (to OpenSSL's
    /// 60 s cap), so 8 is about two minutes of trying. With 5 (15 s) a call on a network losing
    /// a fifth of its datagrams lost its leg now and then — every datagram of a multi-datagram
    /// flight must get through in one try — and sat silent for the rest of the call.
    static let handshakeRetransmissions = 8

    /// The socket's datagrams from now on, for the engine's actor to take in batches.
    func datagrams() -> DatagramInbox {
        let inbox = DatagramInbox()
        socket.setHandler { datagram in inbox.deliver(datagram) }
        return inbox
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

    /// The next 20 ms of this device's voice: Opus, then `seal` (SFrame in a group call), RTP,
    /// SRTP. Nothing is sent before the leg is up.
    func sendNextFrame(seal: ([UInt8]) throws -> [UInt8] = { $0 }) throws {
        guard let sending else { return }
        let opus = try voice.nextFrame(muted: muted)
        let packet = packetizer.packetize(try seal(opus))
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
