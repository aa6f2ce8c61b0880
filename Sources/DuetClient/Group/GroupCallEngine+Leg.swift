import DuetMedia
import DuetWire

/// A group call's leg to the SFU: its socket, its DTLS-SRTP leg and pump, and what the leg
/// reports (docs/group-calls.md).
extension GroupCallEngine {
    /// The socket of a leg to the SFU, with this engine's test impairment.
    func bindSocket() async throws -> MediaSocket {
        let socket = try await MediaSocket.bind()
        socket.impair(impairment)
        return socket
    }

    /// The DTLS-SRTP leg to the SFU the server's reply names, on `socket`, and a pump sending
    /// this device's voice under a new SSRC.
    func makeMedia(_ info: GroupCallInfo, socket: MediaSocket) throws -> SFUMedia {
        guard let media = info.media, let fingerprint = info.mediaFingerprint else { throw GroupCallEngineError.noMediaPort }
        guard let address = ServerAddress.media(media, signaling: session.server) else {
            throw GroupCallEngineError.badMediaAddress(media.description)
        }
        let leg = try ServerMediaLeg(
            socket: socket, media: address, certificate: certificate, serverFingerprint: fingerprint,
            relay: .duetRelay(session, callID: info.callID))
        let making = MediaOptions(opusComplexity: options.opusComplexity, voiceEncoding: options.voiceEncoding)
        let pump = MediaPump(outbound: try OutboundMedia(voice: number, ssrc: .random(in: 1...UInt32.max), options: making))
        pump.muted = muted
        return SFUMedia(leg: leg, pump: pump)
    }

    func pumpReceived(_ batch: [MediaSocket.Datagram]) async {
        for datagram in batch { receive(datagram) }
    }

    /// What the leg reports: up (the history counts the call connected), down, or to be rebuilt.
    func report(_ news: [SFUMedia.News]) {
        for item in news {
            switch item {
            case let .connected(route):
                guard let active = call else { return }
                // A send-only participant needs nothing more from the SFU once its leg is up (over
                // the relay, what comes back comes on the relay's stream, never read after this).
                if !options.receivesAudio { active.media.leg.socket.stopReading() }
                for action in machine.handle(.mediaConnected(route: route)) { if case let .emit(event) = action { eventSink.yield(event) } }
                recordHistory { $0.connected(.group, active.callID, path: MediaPath.sfu.label) }
            case let .failed(reason): eventSink.yield(.notice(.warning(.media, reason)))
            case let .notice(text): eventSink.yield(.leg(text))
            case let .rebuild(reason): Task { await rebuildLeg(because: reason) }
            }
        }
    }
}
