import Foundation

/// What a group call engine tells its UI (and tests): room changes, every rekey with its
/// cause (DESIGN: the event log shows why a key changed), and whom this device hears.
public enum GroupCallEngineEvent: Sendable, Equatable {
    /// The media leg's DTLS-SRTP handshake with the SFU finished.
    case mediaConnected(callID: String)
    case joined(String)
    case left(String)
    /// This device made (and distributed, and switched to) a new sender key.
    case rekey(RekeyCause, epoch: UInt16)
    /// A member's sender key arrived over its pairwise channel.
    case keyReceived(from: String, epoch: UInt16)
    /// The periodic hearing report, one entry per other participant.
    case hearing([GroupCallHearing])
    /// Something was dropped or failed without ending the call.
    case warning(String)
    case ended
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
        "\(member): \(heard ? "heard" : "not heard") \(Int(level)) dBFS epoch \(epoch.map(String.init) ?? "-") (\(received) frames)"
    }
}

/// A group call engine's state at one moment, for tests and status screens.
public struct GroupCallSnapshot: Sendable, Equatable {
    public let callID: String
    public let participants: [String]
    /// The epoch this device sends under (nil before its first key is active).
    public let epoch: UInt16?
    public let mediaConnected: Bool
    public let hearing: [String: GroupCallHearing]
    /// Every rekey of this device in the call, in order.
    public let rekeys: [RekeyCause]
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
