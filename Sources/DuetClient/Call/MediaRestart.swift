import DuetWire
import Foundation

/// An ICE restart of a connected call (docs/networking.md "Network change"): a
/// device whose addresses changed, or that stopped hearing the other device, sends its fresh
/// candidates; the other answers with its own; both check the new pairs while media keeps its
/// old path, and move to the pair that works. No new call keys: the same call secret, the same
/// SRTP sessions, the same connectivity credentials. Sealed under the call's keys like the
/// relayed address, so the server cannot point media elsewhere; `generation` grows with every
/// message a device sends, so a replayed old one is ignored.
struct MediaRestart: Codable, Equatable, Sendable {
    var generation: Int
    var candidates: [Candidate]
    /// True for the answer to the other device's restart (which is not answered again).
    var isReply: Bool
    /// Why each candidate that could not be used was refused (never sent).
    var refusedCandidates: [String] = []

    private enum CodingKeys: String, CodingKey { case generation, candidates, isReply }

    init(generation: Int, candidates: [Candidate], isReply: Bool) {
        self.generation = generation
        self.candidates = candidates
        self.isReply = isReply
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        generation = try container.decode(Int.self, forKey: .generation)
        (candidates, refusedCandidates) = try container.decode(PeerCandidates.self, forKey: .candidates).parts
        isReply = try container.decode(Bool.self, forKey: .isReply)
    }

    /// No media heard this long on a direct path: restart (the 4 s silence that ends a call
    /// leaves time for one restart to work).
    static let silenceBeforeRestart = Duration.milliseconds(1500)
    /// At most one restart this often, so a peer that is really gone does not cause a storm.
    static let minimumInterval = Duration.seconds(3)
    /// How long a restart waits for its server-reflexive address before sending without it.
    static let gatheringLimit = Duration.milliseconds(500)
    /// An unanswered restart is sent again this often (its signaling may have been down).
    static let resendInterval = Duration.milliseconds(500)
    /// How long a restart is sent again, unanswered, while media still flows (an old peer, or
    /// one that cannot reply, must not be asked for ever).
    static let answerLimit = Duration.seconds(10)
    /// An unanswered STUN Binding for the new mapping is sent again this often.
    static let bindingInterval = Duration.milliseconds(200)
}

/// Why a device restarts: what it tells the user, and whether its signaling must reconnect.
enum RestartCause: String, Sendable {
    /// An interface's address came or went: the signaling connection may be dead too.
    case networkChanged = "network changed"
    /// Nothing heard on the direct path (a NAT that forgot its mapping, a path that broke).
    case silence = "no media heard for a while"
}

/// Where a connected call's restart stands (one at a time).
struct RestartProgress: Sendable {
    let startedAt: ContinuousClock.Instant
    /// The STUN Binding to the server's media port that learns the new mapping, resent until
    /// answered (right after a change the route to the server may not be there yet).
    var mapping: MappingRequest?
    var mappingSentAt: ContinuousClock.Instant?
    var reflexive: TransportAddress?
    var sent = false
    var sentAt: ContinuousClock.Instant?
    /// The server-reflexive address the last restart message carried: a newer one is sent again.
    var sentReflexive: TransportAddress?
    /// The other device answered (its candidates are being checked).
    var answered = false
    /// When media was last heard before the restart: the gap is measured from here.
    let lastMediaBefore: ContinuousClock.Instant?
}
