import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// The call's media once a path is chosen: the keys into the pump, audio and video out along
/// the path, and the once-a-second reports' names.
extension CallEngine {
    func startMedia(_ path: MediaPath) {
        guard var active = call, let keys = active.keys else { return }
        do {
            let peerNumber = active.peer
            // Listen for our own voice too (it comes back from an Echo Test), unless it sounds
            // like the peer's: then the analyser could not tell them apart.
            let alike = VoiceSignature(number: ownNumber).soundsLike(VoiceSignature(number: peerNumber))
            active.pump.addStream(
                try InboundStream(source: peerNumber, voices: alike ? [peerNumber] : [peerNumber, ownNumber], recording: options.wav))
            active.pump.useKeys(
                sending: try SRTPSession(role: .sender, masterKey: active.isCaller ? keys.callerToCallee : keys.calleeToCaller),
                receiving: try SRTPSession(role: .receiver, masterKey: active.isCaller ? keys.calleeToCaller : keys.callerToCallee))
        } catch {
            emit(.notice(.warning(.media, "media could not start: \(error)")))
            return
        }
        // Video rides the same keys on its own SSRCs; the peer's pictures are shown whether or
        // not this side's camera is on. A peer that did not say it takes video (a device from
        // before video) gets none. If video cannot start, the call goes on with its voice.
        do {
            guard active.peerTakesVideo else { throw VideoUnsupported() }
            active.pump.video = try VideoMedia(
                camera: options.video.map {
                    SyntheticCamera(person: ownNumber, width: $0.width, height: $0.height, framesPerSecond: $0.framesPerSecond)
                }, ownAudioSSRC: active.pump.outbound.ssrc, peerAudioSSRC: active.remoteSSRC, people: [active.peer, ownNumber],
                echoes: options.echo)
            active.pump.video?.saveTo = options.saveVideo
        } catch is VideoUnsupported {
            if options.video != nil { emit(.notice(Notice(.media, .info, "the other device does not take video: a voice call"))) }
        } catch {
            emit(.notice(.warning(.media, "video could not start: \(error)")))
        }
        active.path = path
        active.network.hostAddresses = active.transport.hostAddresses()
        active.network.addressesCheckedAt = .now
        active.lastReport = ContinuousClock.now
        call = active
        let address = path == .p2p ? active.directPeer : active.peerRelayedAddress
        if let address { emit(.path(path, address)) }
        emit(.cipher("SRTP AES_CM_128_HMAC_SHA1_80"))
        sendDueFrames()
        if let path = options.keyLogPath {
            do {
                try KeyLog.record(
                    to: path, callID: active.callID, keys: keys, isCaller: active.isCaller, localSSRC: active.pump.outbound.ssrc,
                    remoteSSRC: active.remoteSSRC)
                emit(.notPrivate(.keysLoggedHere(path: path)))
            } catch {
                emit(.notice(.warning(.media, error.description)))
            }
        }
    }

    /// The peer's offer or answer did not say it takes video.
    private struct VideoUnsupported: Error {}

    /// "Name (number)" for a number heard or seen; "you" for this device's own (an Echo Test).
    func displayName(_ number: String?) -> String? {
        number.map { number -> String in
            let full = number.hasPrefix("+") ? number : "+" + number
            let name = full == ownNumber ? "you" : (try? session.store.contact(number: full))?.name
            return name.map { "\($0) (\(full))" } ?? full
        }
    }

    func hearingReport(_ report: InboundStream.Report, pump: MediaPump) -> HearingReport {
        let speaker = displayName(report.speaker)
        return HearingReport(
            speaker: speaker, level: report.level, lossPercent: report.lossPercent,
            jitterMilliseconds: report.jitterMilliseconds, tamperedPackets: pump.rejected + pump.unopened,
            replayedPackets: pump.replayed)
    }

    /// Sends the frames that are due along the chosen path (`OutboundMedia`: the first at
    /// once, at most 3 to catch up after a stall).
    func sendDueFrames() {
        guard let active = call else { return }
        do { try active.pump.sendDueFrames { packet in sendMedia(packet) } } catch {
            emit(.notice(.warning(.media, "sending a frame: \(error)")))
        }
    }

    /// Sends a protected media packet along the chosen path.
    private func sendMedia(_ packet: [UInt8]) {
        guard let active = call else { return }
        switch active.path {
        case .p2p:
            if let peer = active.directPeer { active.transport.socket.send(packet, to: peer) }
        case .relay:
            active.relay?.send(packet)
        default:
            break
        }
    }
}
