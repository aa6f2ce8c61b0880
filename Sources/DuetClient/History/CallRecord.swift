import Foundation

/// One call, group call or meeting in the device's history (docs/history.md): who, when, how
/// long, over which path, how it ended, and whether the other side's key was verified. Kept in
/// the device store only; the server keeps no history.
public struct CallRecord: Equatable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case call, group, meeting
    }

    public enum Direction: String, Sendable {
        case outgoing, incoming
    }

    /// How it ended. Nil in a record while the call goes on (or if the device stopped during it).
    public enum Outcome: String, Sendable {
        /// Connected, and later ended by either side (or by a failure once connected).
        case answered
        /// Rang here and was not answered: the caller gave up, the ring timed out, or this device
        /// was offline (a sealed notice the caller left, `MissedCallNotice`).
        case missed
        case declined
        /// Rung from here; nobody answered.
        case noAnswer = "no answer"
        case busy
        /// Rung from here and given up before an answer.
        case cancelled
        /// Could not be set up.
        case failed
    }

    public var kind: Kind
    public var direction: Direction
    /// A number (1:1), a group's name, or a meeting's code.
    public var peer: String
    /// The contact's name for a number, when it has one.
    public var peerName: String?
    /// The call's id: one record per call, whatever reports it twice.
    public var callID: String
    public var startedAt: Date
    public var connectedAt: Date?
    public var endedAt: Date?
    /// `p2p`, `relay (udp)`, `sfu`, `server` (a meeting), as the call screen names it.
    public var path: String?
    /// The peer's identity key was the one the user verified (1:1 calls).
    public var verified: Bool
    public var outcome: Outcome?

    public init(
        kind: Kind, direction: Direction, peer: String, peerName: String? = nil, callID: String, startedAt: Date = Date(),
        connectedAt: Date? = nil, endedAt: Date? = nil, path: String? = nil, verified: Bool = false, outcome: Outcome? = nil
    ) {
        self.kind = kind
        self.direction = direction
        self.peer = peer
        self.peerName = peerName
        self.callID = callID
        self.startedAt = startedAt
        self.connectedAt = connectedAt
        self.endedAt = endedAt
        self.path = path
        self.verified = verified
        self.outcome = outcome
    }

    /// Seconds connected; nil if it never connected.
    public var duration: TimeInterval? {
        guard let connectedAt else { return nil }
        return max(0, (endedAt ?? connectedAt).timeIntervalSince(connectedAt))
    }

    /// "Bob (+15550002)" or the number, group or code alone.
    public var who: String { peerName.map { "\($0) (\(peer))" } ?? peer }
}

extension CallRecord.Outcome {
    /// How a 1:1 call that ended for `reason` before it connected goes into the history (one
    /// that connected is `answered`, whatever ended it).
    static func of(_ reason: CallEndReason, direction: CallRecord.Direction) -> CallRecord.Outcome {
        switch (reason, direction) {
        case (.declined, _): return .declined
        case (.busy, _): return .busy
        case (.noAnswer, .incoming), (.cancelled, .incoming): return .missed
        case (.noAnswer, .outgoing): return .noAnswer
        // Given up from here; or answered here and the caller hung up before media flowed.
        case (.cancelled, .outgoing), (.hungUp, _), (.hungUpByPeer, .incoming): return .cancelled
        case (.hungUpByPeer, .outgoing), (.failed, _): return .failed
        }
    }
}
