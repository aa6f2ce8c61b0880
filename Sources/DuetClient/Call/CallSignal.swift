/// A call message between the two devices, forwarded by the signaling server, which stamps
/// `from` with the sender's authenticated number and cannot read the sealed payloads.
public struct CallSignal: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case invite, answer, confirm, decline, busy, cancel, hangup
        /// "My relayed address is …" (relay path): the peer sends media there.
        case relayAddress = "relay-address"
        /// "My addresses changed; here are my candidates" (`MediaRestart`), sealed.
        case restart
        /// "Here is a candidate I found after my offer or answer left" (trickled), sealed.
        case candidates
        /// A group call member's SFrame sender key, sealed on a pairwise channel
        /// (`SenderKeySignal`); only the group call engine reads it.
        case senderKey = "sender-key"
    }

    public let from: String
    public let callID: String
    public let kind: Kind
    public let payload: [UInt8]

    public init(from: String, callID: String, kind: Kind, payload: [UInt8]) {
        self.from = from
        self.callID = callID
        self.kind = kind
        self.payload = payload
    }
}
