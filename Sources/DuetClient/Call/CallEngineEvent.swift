import DuetMedia
import DuetWire

/// What a call engine reports, one line each in headless commands (README.md) and as call
/// screen updates in the TUI.
public enum CallEngineEvent: Sendable, Equatable, CustomStringConvertible {
    case state(CallState)
    /// Someone rings; `trust` says whether their key is verified or changed.
    case incoming(from: String, name: String?, trust: ContactTrust)
    case path(MediaPath, TransportAddress)
    case sas(String)
    case cipher(String)
    case hearing(HearingReport)
    /// Once a second while the other side's video comes: what its pictures show (docs/video.md).
    case seeing(SeeingReport)
    /// The peer turned its camera off (an RTCP BYE) or on again (its pictures came back).
    case peerCamera(on: Bool)
    /// New pictures to draw: the peer's and this camera's (`CallOptions.showsPictures` only).
    case pictures(CallPictures)
    /// The first frame of the peer's audio was decoded: the moment a person hears the call.
    case firstAudio
    /// Something went wrong or is unsafe without ending the call.
    case notice(Notice)
    /// Media was heard again after a network change, `gapMilliseconds` after it stopped.
    case mediaResumed(gapMilliseconds: Int)
    /// A candidate found after the offer or answer left went to the other device (`sent`), or
    /// came from it.
    case trickled(Candidate, sent: Bool)
    /// The call secret, SRTP contexts and ephemeral keys were released (zeroed).
    case keysWiped
    /// Someone can read this call: a device writes its media keys to a file.
    case notPrivate(NotPrivateReason)

    public var description: String {
        switch self {
        case let .state(state): "state \(state)"
        case let .incoming(from, name, trust):
            "incoming \(name.map { "\($0) (\(from))" } ?? from) \(trust.label)"
        case let .path(path, address): "path \(path.label) \(address)"
        case let .sas(words): "sas \(words)"
        case let .cipher(name): "cipher \(name)"
        case let .hearing(report): report.description
        case let .seeing(report): report.description
        case let .peerCamera(on): on ? "camera on" : "camera off"
        case let .pictures(pictures): "pictures \(pictures)"
        case .firstAudio: "first audio"
        case let .notice(notice): notice.severity == .warning ? "warning \(notice.text)" : notice.text
        case let .mediaResumed(gap): "media back after \(gap) ms without audio"
        case let .trickled(candidate, sent): "candidate \(sent ? "trickled" : "received") \(candidate.kind.rawValue) \(candidate.address)"
        case .keysWiped: "keys wiped"
        case let .notPrivate(reason): "warning \(reason)"
        }
    }
}

/// Why a call is not private, whichever screen shows it.
public enum NotPrivateReason: Sendable, Equatable, CustomStringConvertible {
    /// This device writes the call's media keys to `path` (DUET_SRTP_KEYLOG).
    case keysLoggedHere(path: String)
    /// The other device said it writes them (its offer or answer, sealed).
    case keysLoggedByPeer

    public var description: String {
        switch self {
        case let .keysLoggedHere(path): "DUET_SRTP_KEYLOG is set: this call's media keys are written to \(path); the call is NOT private"
        case .keysLoggedByPeer: "the other device writes this call's media keys to a file (DUET_SRTP_KEYLOG): the call is NOT private"
        }
    }
}

/// Once a second: whom this side hears, how loud, and how the network treats the packets.
public struct HearingReport: Sendable, Equatable, CustomStringConvertible {
    /// "Name (number)", or nil when no known voice is heard.
    public var speaker: String?
    public var level: Double
    public var lossPercent: Double
    public var jitterMilliseconds: Double
    /// Packets that failed SRTP authentication (tampered, or not from our peer), so far.
    public var tamperedPackets: Int
    /// Packets libsrtp refused as replays, so far.
    public var replayedPackets: Int

    public init(
        speaker: String?, level: Double, lossPercent: Double, jitterMilliseconds: Double,
        tamperedPackets: Int = 0, replayedPackets: Int = 0
    ) {
        self.speaker = speaker
        self.level = level
        self.lossPercent = lossPercent
        self.jitterMilliseconds = jitterMilliseconds
        self.tamperedPackets = tamperedPackets
        self.replayedPackets = replayedPackets
    }

    public var description: String {
        let who = speaker ?? "nobody"
        return
            "hearing \(who) \(Self.oneDecimal(level)) dBFS loss \(Self.oneDecimal(lossPercent))% jitter \(Self.oneDecimal(jitterMilliseconds)) ms"
            + (tamperedPackets + replayedPackets > 0 ? " rejected: \(tamperedPackets) tampered, \(replayedPackets) replayed" : "")
    }
}

extension ContactTrust {
    /// How the trust state reads on one line.
    public var label: String {
        switch self {
        case .verified: "verified"
        case .unverified: "unverified"
        case .keyChanged: "KEY CHANGED"
        }
    }
}

extension HearingReport {
    /// One decimal ("-20.1", "3.9", "-inf", "?" for NaN), written by hand so the text never
    /// depends on the user's locale; the TUI writes its figures the same way.
    public static func oneDecimal(_ value: Double) -> String {
        guard !value.isNaN else { return "?" }
        guard value.isFinite else { return value < 0 ? "-inf" : "inf" }
        let tenths = Int((min(max(value, -1e12), 1e12) * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}

/// What the other side's pictures showed over the last second (`VideoAnalyser`), as the
/// `seeing` line prints it: "seeing Bob (+15557002) 15 fps 160x120 keyframes 1 freezes 0
/// bitrate 180 kbit/s".
public struct SeeingReport: Sendable, Equatable, CustomStringConvertible {
    /// "Name (number)" of the person the pictures name, or nil for none known.
    public var person: String?
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int
    public var freezes: Int
    /// Keyframes shown since the call began.
    public var keyframes: Int
    /// The video's RTP payload received over the last second.
    public var kilobitsPerSecond: Int
    /// The other side turned its camera off.
    public var cameraOff: Bool
    /// Capture to display, when both ends share a clock (one machine); else meaningless.
    public var delayMilliseconds: Int?

    init(_ report: VideoAnalyser.Report, name: String?, peer: VideoMedia.PeerVideo, kilobitsPerSecond: Int) {
        person = name
        width = report.width
        height = report.height
        framesPerSecond = report.framesPerSecond
        freezes = report.freezes
        keyframes = peer.receiver.keyframesShown
        self.kilobitsPerSecond = kilobitsPerSecond
        cameraOff = peer.cameraOff
        delayMilliseconds = report.delayMilliseconds
    }

    public var description: String {
        let who = person ?? "nobody"
        guard !cameraOff else { return "seeing \(who) camera off" }
        return "seeing \(who) \(framesPerSecond) fps \(width)x\(height) keyframes \(keyframes) freezes \(freezes) "
            + "bitrate \(kilobitsPerSecond) kbit/s" + (delayMilliseconds.map { " delay \($0) ms" } ?? "")
    }
}
