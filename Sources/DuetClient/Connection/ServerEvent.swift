import DuetCrypto
import DuetWire

/// What the server tells a device without being asked, and what happens to the connection.
public enum ServerEvent: Sendable, Equatable {
    /// A number this device looked up, fetched or watches now belongs to another key.
    case keyChanged(number: String, newIdentityKey: IdentityPublicKey)
    case presence(number: String, online: Bool)
    /// The server holds only `remaining` one-time prekeys for this device: upload more
    /// (the device tops itself up to 100).
    case prekeysLow(remaining: Int)
    /// A call signal from another device; `from` is the sender's registered number as the
    /// server knows it (the sender cannot choose it). `payload` is the sender's encrypted blob.
    case callSignal(from: String, callID: String, kind: String, payload: [UInt8])
    /// A group this device is (or was) in gained or lost members.
    case groupChanged(GroupChange)
    /// A group call in one of this device's groups started (for a member not in it: the
    /// ring) or its room changed.
    case groupCallChanged(GroupCallInfo, joined: [String], left: [String])
    /// The room of group call `callID` went with the server node holding it.
    case groupCallLost(callID: String)
    /// A meeting this device is in changed (joins, leaves, knocks for its host, recording).
    case meetingChanged(Signaling.MeetingChanged)
    /// The host let this device in.
    case meetingAdmitted(Signaling.Meeting)
    /// This device is out of a meeting: not admitted, or the meeting ended.
    case meetingClosed(Signaling.MeetingClosed)
    /// Logged in (again); `number` is the number bound to this device's key, if any.
    case connected(number: String?)
    case disconnected(reason: String)
    case reconnecting(attempt: Int, after: Duration)
    /// Reconnecting stopped for good (e.g. the certificate changed); connect again by hand.
    case gaveUp(ServerConnectionError)
}
