import DuetWire
import Foundation

/// What a group call engine tells its UI (and tests): room changes, every rekey with its
/// cause (the event log shows why a key changed), and whom this device hears.
public enum GroupCallEngineEvent: Sendable, Equatable, CustomStringConvertible {
    /// A call in one of this device's groups that it is not in (join it with `join(callID:)`).
    case ringing(GroupCallInfo)
    /// Signaling came back after a break (the server restarted, or dropped this device), and
    /// this device is in the call again — on a new leg, a new key to follow; `participants`
    /// are those back so far. `group` is the group as it is now: members added or removed
    /// during the break were told to nobody, so a screen takes them from here.
    case rejoined(callID: String, group: GroupInfo, participants: [String])
    /// The media leg's DTLS-SRTP handshake with the SFU finished; `route` is how the leg
    /// reaches it (`udp`, or `relay (tcp)` / `relay (tls)` on a network that lets no UDP out).
    case mediaConnected(callID: String, route: String)
    /// How the media leg reaches the SFU changed (UDP silent: over the relay).
    case leg(String)
    case joined(String)
    case left(String)
    /// The call's group changed during the call (each is followed by a rekey).
    case memberAdded(String, by: String)
    case memberRemoved(String, by: String)
    /// This device was removed from the call's group, so it is out of the call.
    case removedFromGroup(String, by: String)
    /// This device made (and distributed, and switched to) a new sender key.
    case rekey(RekeyCause, epoch: UInt16)
    /// A member's sender key arrived over its pairwise channel.
    case keyReceived(from: String, epoch: UInt16)
    /// This device's sender key of `epoch` was sealed and sent to `member` (joined or only
    /// rung): a rung member holding the current epoch joins without a rekey.
    case keyGiven(to: String, epoch: UInt16)
    /// The periodic hearing report, one entry per other participant.
    case hearing([GroupCallHearing])
    /// Once a second, what each member's video showed (members whose pictures came).
    case seeing([SeeingReport])
    /// New pictures to draw: each member's last and this camera's (`Options.showsPictures` only).
    case pictures(GroupPictures)
    /// Something was dropped or failed without ending the call.
    case notice(Notice)
    /// Every sender key of the call, ours and the members', was released and zeroed.
    case keysWiped
    case ended

    /// One line of a headless command's output.
    public var description: String {
        switch self {
        case let .ringing(call):
            "ringing: group call \(call.callID) in \(call.group.name) with \(call.participants.joined(separator: ", "))"
        case let .rejoined(id, _, participants):
            "rejoined: call \(id) after reconnecting to the server; back so far: \(participants.joined(separator: ", ")); new leg and new key follow"
        case let .mediaConnected(id, route):
            "media: DTLS-SRTP leg to the SFU up over \(route) (call \(id)); voice is SFrame end-to-end encrypted inside it"
        case let .leg(text): "media: \(text)"
        case let .joined(member): "joined: \(member)"
        case let .left(member): "left: \(member)"
        case let .memberAdded(member, by): "group: \(member) added by \(by)"
        case let .memberRemoved(member, by): "group: \(member) removed by \(by)"
        case let .removedFromGroup(group, by): "group: \(by) removed this device from \(group); left the call"
        case let .rekey(cause, epoch): "rekey: now sending under key epoch \(epoch) (\(cause.explanation))"
        case let .keyReceived(member, epoch): "key: \(member)'s sender key epoch \(epoch) received"
        case let .keyGiven(member, epoch): "key: sender key epoch \(epoch) given to \(member)"
        case let .hearing(reports):
            reports.isEmpty ? "hearing: nobody else in the call" : "hearing: " + reports.map(\.description).joined(separator: "; ")
        case let .seeing(reports): reports.map(\.description).joined(separator: "\n")
        case let .pictures(pictures): "pictures \(pictures)"
        case let .notice(notice): notice.severity == .warning ? "warning: \(notice.text)" : notice.text
        case .keysWiped: "keys: every sender key of this call wiped"
        case .ended: "ended"
        }
    }
}

extension RekeyCause {
    /// Why a key changed, in words for the event log.
    public var explanation: String {
        switch self {
        case .joined: "joined the call"
        case .memberLeft: "a member left: they cannot read what follows"
        case .memberAdded: "a member was added: they cannot read what came before"
        case .rejoined: "rejoined after losing the server: keys from before the break are not used again"
        }
    }
}

/// What this device hears of one other participant over the last second.
public struct GroupCallHearing: Sendable, Equatable, CustomStringConvertible {
    public let member: String
    /// The voice analysed is this member's own (their synthetic voice's signature), not just sound.
    public let heard: Bool
    /// RMS level in dBFS of what was decoded.
    public let level: Double
    /// The sender-key epoch of the last frame from this member that decrypted.
    public let epoch: UInt16?
    /// Frames that decrypted, since the call began.
    public let received: Int

    public var description: String {
        "\(member) \(heard ? "heard" : "not heard") \(HearingReport.oneDecimal(level)) dBFS epoch \(epoch.map(String.init) ?? "-")"
    }
}

/// A group call engine's state at one moment, for tests and status screens.
public struct GroupCallSnapshot: Sendable, Equatable {
    public let callID: String
    public let group: GroupInfo
    public let participants: [String]
    /// The epoch this device sends under (nil before its first key is active).
    public let epoch: UInt16?
    public let mediaConnected: Bool
    public let hearing: [String: GroupCallHearing]
    /// Frames opened so far from each member, counted as they arrive (`hearing` is the last
    /// once-a-second report).
    public let framesOpened: [String: Int]
    /// Every rekey of this device in the call, in order.
    public let rekeys: [RekeyCause]
    /// The epoch of the last key this device gave each member, joined or only rung (a rung
    /// member with the current epoch is "invited, has key").
    public let keyGiven: [String: UInt16]
    /// Frames from the SFU that opened under no member's key (none, unless keys were missing),
    /// since this device joined or last rejoined (the pump's count, like `framesSent`).
    public let undecryptable: Int
    /// Frames this device sent on its current leg.
    public let framesSent: Int
    /// Datagrams that reached this device's socket while the engine was too far behind to take
    /// them (dropped in this process, not by the network).
    public let datagramsOverflowed: Int
    /// The local address of this device's leg to the SFU (where its media comes from, as the SFU sees it).
    public let legAddress: TransportAddress
    /// Pictures shown of each member's video so far (their current stream's).
    public let picturesShown: [String: Int]
}

/// The payload of a `sender-key` call signal: the channel's X3DH header while the channel is
/// not known to be open at the recipient, and one sealed `SenderKeyAnnouncement`.
struct SenderKeySignal: Codable, Sendable {
    let header: PairwiseChannelHeader?
    let message: PairwiseMessage
}

/// Why a group call could not start or join.
public enum GroupCallEngineError: Error, Equatable, CustomStringConvertible {
    case notRegistered
    case alreadyInCall(String)
    /// The server answered without a media port or fingerprint: no leg can be made.
    case noMediaPort
    case badMediaAddress(String)

    public var description: String {
        switch self {
        case .notRegistered: "this device is not registered: run 'duet register NUMBER --server HOST:PORT'"
        case let .alreadyInCall(id): "already in group call \(id): leave it first"
        case .noMediaPort: "the server gave no media port for this call: it cannot carry group media"
        case let .badMediaAddress(address): "the server's media port '\(address)' is not an IPv4 address"
        }
    }
}
