/// What happens to a 1:1 call. The engine feeds events in and carries out the returned
/// actions; the machine itself does no I/O and keeps no clock, so every path through it is
/// tested alone (the habit of swift-nio's protocol state machines).
public struct CallStateMachine: Sendable {
    /// Seconds a call may ring before it ends as "no answer" (45 s).
    public static let ringTimeout = 45.0
    /// Seconds the direct connectivity checks get before the relay is used.
    public static let directCheckTimeout = 2.0
    /// Seconds from answer to media before the call fails.
    public static let connectTimeout = 15.0
    /// Seconds without any authenticated media before the peer counts as gone: a device that
    /// vanishes (killed, unplugged) is noticed within 5 s. A muted peer still
    /// sends (silence frames), so only a gone one is silent this long.
    public static let mediaSilenceTimeout = 4.0
    /// Silence allowed while a restart repairs the path: a new signaling connection, fresh
    /// candidates both ways and a round of checks.
    public static let restartTimeout = 10.0

    public enum Timer: Equatable, Sendable {
        case ring, directChecks, connect, mediaSilence
    }

    public enum Event: Equatable, Sendable {
        /// The user places the call; `forceRelay` skips direct checks (`--relay`).
        case dial(forceRelay: Bool)
        /// An encrypted offer arrived for us; `forceRelay`: the offer (`--relay` at the caller)
        /// or this device asks for the relay only, so no direct checks are made.
        case offerReceived(forceRelay: Bool)
        case userAccepted
        case userDeclined
        /// The local user hangs up (or cancels an outgoing call).
        case userHungUp
        case answerReceived
        case declineReceived
        case busyReceived
        case cancelReceived
        case hangUpReceived
        /// The peer proved it holds the same call secret (key confirmation checked).
        case keyConfirmed
        /// A direct candidate pair or the relay carries authenticated packets both ways. A
        /// direct pair is selected only after checks carrying MESSAGE-INTEGRITY under keys
        /// derived from the call session (`CallKeys`), so it also proves the peer holds those
        /// keys — an implicit key confirmation that lets the callee send before `confirm`
        /// arrives, half a round trip to the server sooner. A relay channel proves nothing.
        case pathEstablished(MediaPath)
        case timerFired(Timer)
        /// Authenticated media arrived (restarts the silence timer).
        case mediaReceived
        /// A network change is being repaired (`MediaRestart`): media gets longer to come back.
        case restarting
        case failed(String)
    }

    public enum Action: Equatable, Sendable {
        case sendOffer
        case sendAnswer
        case sendDecline
        case sendCancel
        case sendHangUp
        case alertUser
        case startDirectChecks
        case startRelay
        case startMedia(MediaPath)
        case stopMedia
        /// Wipe the call secret, SRTP contexts and ephemeral keys.
        case wipeKeys
        case startTimer(Timer, seconds: Double)
        case cancelTimer(Timer)
        /// The state changed; tell the UI.
        case stateChanged(CallState)
    }

    public private(set) var state: CallState = .idle
    public private(set) var keyConfirmed = false
    private var forceRelay = false
    private var pendingPath: MediaPath?
    private var relayRequested = false

    public init() {}

    /// Applies `event`; an event that does not fit the current state changes nothing.
    public mutating func handle(_ event: Event) -> [Action] {
        switch state {
        case .idle: ringing(event)
        case .outgoing: outgoing(event)
        case .incoming: incoming(event)
        case .connecting: connecting(event)
        case .connected: connected(event)
        case .ended: []
        }
    }

    private mutating func ringing(_ event: Event) -> [Action] {
        switch event {
        case let .dial(relay):
            forceRelay = relay
            return move(to: .outgoing) + [.sendOffer, .startTimer(.ring, seconds: Self.ringTimeout)]
        case let .offerReceived(relay):
            forceRelay = relay
            return move(to: .incoming) + [.alertUser, .startTimer(.ring, seconds: Self.ringTimeout)]
        default:
            return []
        }
    }

    private mutating func outgoing(_ event: Event) -> [Action] {
        switch event {
        case .answerReceived: move(to: .connecting) + [.cancelTimer(.ring)] + startPathFinding()
        case .declineReceived: end(.declined, notifyPeer: nil)
        case .busyReceived: end(.busy, notifyPeer: nil)
        case .timerFired(.ring): end(.noAnswer, notifyPeer: .sendCancel)
        case .userHungUp: end(.cancelled, notifyPeer: .sendCancel)
        case let .failed(reason): end(.failed(reason), notifyPeer: .sendHangUp)
        default: []
        }
    }

    private mutating func incoming(_ event: Event) -> [Action] {
        switch event {
        case .userAccepted: move(to: .connecting) + [.cancelTimer(.ring), .sendAnswer] + startPathFinding()
        case .userDeclined, .userHungUp: end(.declined, notifyPeer: .sendDecline)
        case .cancelReceived: end(.cancelled, notifyPeer: nil)
        case .timerFired(.ring): end(.noAnswer, notifyPeer: .sendDecline)
        case let .failed(reason): end(.failed(reason), notifyPeer: .sendHangUp)
        default: []
        }
    }

    private mutating func connecting(_ event: Event) -> [Action] {
        switch event {
        case .keyConfirmed:
            keyConfirmed = true
            return connectIfReady()
        case let .pathEstablished(path):
            return found(path)
        case .timerFired(.directChecks):
            guard pendingPath == nil, !relayRequested else { return [] }
            relayRequested = true
            return [.startRelay]
        case .timerFired(.connect):
            let reason =
                keyConfirmed
                ? "no media path to the other device (direct and relay both failed)" : "the other device never confirmed the call key"
            return end(.failed(reason), notifyPeer: .sendHangUp)
        default:
            return endingCall(event)
        }
    }

    private mutating func connected(_ event: Event) -> [Action] {
        switch event {
        case .mediaReceived, .restarting:
            [.startTimer(.mediaSilence, seconds: event == .restarting ? Self.restartTimeout : Self.mediaSilenceTimeout)]
        case .timerFired(.mediaSilence): end(.failed("the other device stopped sending media"), notifyPeer: .sendHangUp)
        default: endingCall(event)
        }
    }

    /// How a call being connected or connected ends.
    private mutating func endingCall(_ event: Event) -> [Action] {
        switch event {
        case .userHungUp: end(.hungUp, notifyPeer: .sendHangUp)
        case .hangUpReceived, .cancelReceived: end(.hungUpByPeer, notifyPeer: nil)
        case let .failed(reason): end(.failed(reason), notifyPeer: .sendHangUp)
        default: []
        }
    }

    private mutating func move(to next: CallState) -> [Action] {
        state = next
        return [.stateChanged(next)]
    }

    private mutating func startPathFinding() -> [Action] {
        if forceRelay {
            relayRequested = true
            return [.startRelay, .startTimer(.connect, seconds: Self.connectTimeout)]
        }
        return [
            .startDirectChecks, .startTimer(.directChecks, seconds: Self.directCheckTimeout),
            .startTimer(.connect, seconds: Self.connectTimeout)
        ]
    }

    /// A direct path is preferred to the relay, and confirms the keys by itself (`Event.pathEstablished`).
    private mutating func found(_ path: MediaPath) -> [Action] {
        if pendingPath == nil || path == .p2p { pendingPath = path }
        if path == .p2p { keyConfirmed = true }
        return connectIfReady()
    }

    /// Media starts only once keys are confirmed AND a path carries packets.
    private mutating func connectIfReady() -> [Action] {
        guard keyConfirmed, let path = pendingPath else { return [] }
        return move(to: .connected(path)) + [
            .cancelTimer(.directChecks), .cancelTimer(.connect), .startMedia(path),
            .startTimer(.mediaSilence, seconds: Self.mediaSilenceTimeout)
        ]
    }

    private mutating func end(_ reason: CallEndReason, notifyPeer: Action?) -> [Action] {
        let wasMedia: Bool = if case .connected = state { true } else { false }
        var actions = move(to: .ended(reason))
        if let notifyPeer { actions.append(notifyPeer) }
        if wasMedia { actions.append(.stopMedia) }
        actions += [.cancelTimer(.ring), .cancelTimer(.directChecks), .cancelTimer(.connect), .cancelTimer(.mediaSilence), .wipeKeys]
        return actions
    }
}
