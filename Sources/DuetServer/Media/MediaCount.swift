/// What the media port counts, by kind: datagrams answered, relayed or dropped. The counts go
/// to the operator's log when the port stops, and a kind of drop is logged the first time it
/// happens. A typed kind rather than text: the router counts twice for most datagrams, and a
/// count must cost an array increment, not the hashing of a sentence.
enum MediaCount: Int, CaseIterable, Sendable {
    case stunBinding, stunBindingNonRequest, malformedSTUN, turn, turnChannelData, turnStreams
    case dtls, srtp, dtlsThroughRelay, srtpThroughRelay
    case relayedFromPeers, relayedBetweenAllocations, allocationsRefusedAtCapacity
    case unknownDropped, notTURNOnStreamDropped, notDTLSOrSRTPThroughRelayDropped

    /// How the log names it.
    var label: String {
        switch self {
        case .stunBinding: "STUN binding"
        case .stunBindingNonRequest: "STUN binding non-request"
        case .malformedSTUN: "malformed STUN"
        case .turn: "TURN"
        case .turnChannelData: "TURN channel data"
        case .turnStreams: "TURN streams"
        case .dtls: "DTLS"
        case .srtp: "SRTP"
        case .dtlsThroughRelay: "DTLS through the relay"
        case .srtpThroughRelay: "SRTP through the relay"
        case .relayedFromPeers: "relayed from peers"
        case .relayedBetweenAllocations: "relayed between allocations"
        case .allocationsRefusedAtCapacity: "allocations refused at capacity"
        case .unknownDropped: "unknown (dropped)"
        case .notTURNOnStreamDropped: "not TURN on a stream (dropped)"
        case .notDTLSOrSRTPThroughRelayDropped: "not DTLS or SRTP to the SFU through the relay (dropped)"
        }
    }

    /// Datagrams that are none of the port's protocols (or not on the way they came by).
    var isDrop: Bool {
        switch self {
        case .unknownDropped, .notTURNOnStreamDropped, .notDTLSOrSRTPThroughRelayDropped: true
        default: false
        }
    }
}

/// One counter per `MediaCount`, in an array indexed by the kind.
struct MediaCounts: Sendable {
    private var values = [Int](repeating: 0, count: MediaCount.allCases.count)

    subscript(kind: MediaCount) -> Int { values[kind.rawValue] }

    /// Counts one; true the first time this kind is counted.
    mutating func add(_ kind: MediaCount) -> Bool {
        values[kind.rawValue] += 1
        return values[kind.rawValue] == 1
    }

    /// The counts that are not zero, by label (for the log and tests).
    var labelled: [String: Int] {
        var result: [String: Int] = [:]
        for kind in MediaCount.allCases where values[kind.rawValue] > 0 { result[kind.label] = values[kind.rawValue] }
        return result
    }
}
