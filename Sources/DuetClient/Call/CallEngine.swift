import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

/// Why a call could not be placed.
public enum CallError: Error, Equatable, CustomStringConvertible {
    case busy
    case notRegistered
    case contactKeyChanged(String)
    case noCall

    public var description: String {
        switch self {
        case .busy: "already in a call; hang up first"
        case .notRegistered: "this device is not registered: run 'duet register NUMBER --server HOST:PORT'"
        case let .contactKeyChanged(number):
            "\(number)'s identity key changed since you last saw it: compare safety numbers (duet contacts verify \(number)) before calling, or call anyway with --accept-key-change"
        case .noCall: "there is no call to act on"
        }
    }
}

/// How calls are made on this device.
public struct CallOptions: Sendable {
    /// Use the relay even when a direct path would work (`--relay`).
    public var forceRelay = false
    /// Write what is heard to this WAV file.
    public var wav: URL?
    /// An external TURN server instead of the Duet server's relay (`--turn`).
    public var externalTURN: ExternalTURN?
    /// The ways to reach the relay, in order, instead of the usual (UDP, TCP, TLS; see
    /// `CallTransport.RelayPlan`): `--relay-over tcp` on a network known to drop UDP.
    public var relayTransports: [RelayTransport]?
    /// Test hook: the media socket drops direct traffic between the peers, as a firewall
    /// would, and lets only the server's media port and the relay through.
    public var blockDirectTraffic = false
    /// Test hook: the media socket loses and delays what it receives (a bad network).
    public var inboundImpairment: NetworkImpairment?
    /// Test hook: sees every datagram that came from the peer, directly or unwrapped from
    /// the relay, before any check — what the network (or the relay) delivered.
    public var peerDatagramTap: (@Sendable ([UInt8]) -> Void)?
    /// Where the SRTP debug key log goes; `DUET_SRTP_KEYLOG` by default, off when nil.
    public var keyLogPath: String? = ProcessInfo.processInfo.environment["DUET_SRTP_KEYLOG"].flatMap { $0.isEmpty ? nil : $0 }
    /// Seconds an outgoing or incoming call rings before "no answer" (tests shorten it).
    public var ringTimeout = CallStateMachine.ringTimeout
    /// Answer every call at once (the bots).
    public var autoAnswer = false
    /// Send back what is heard instead of our own voice (the Echo Test bot).
    public var echo = false
    /// This device's camera (`--video`): its synthetic scene at this size and rate. Off (nil),
    /// the device still shows the other side's video if it sends any.
    public var video: VideoSettings?
    /// Save the peer's video, as shown, to this IVF file (`--save-video`).
    public var saveVideo: URL?
    /// Say in the offer or answer that this device takes video. Off, it behaves as a device
    /// from before video: no video either way, whatever the cameras (tests of that case, and
    /// devices that would only throw the pictures away).
    public var takesVideo = true
    /// Hand the pictures to a screen (`CallEngineEvent.pictures`, the TUI); headless commands
    /// only print the `seeing` line.
    public var showsPictures = false
    /// The Opus encoder's complexity (0–10). 10 by default; the load bench runs a hundred
    /// devices in one process at 0, which costs a fraction of the CPU for the same packets.
    public var opusComplexity = 10
    /// Live by default; the load bench's devices replay their voice encoded once (see `VoiceEncoder`).
    public var voiceEncoding = VoiceEncoder.Mode.live
    /// Keep a media socket gathered ahead of the next call (`GatheredSocket`): one idle socket
    /// and a STUN Binding every 15 s, for a call answered a round trip sooner. Off
    /// (`--no-spare-socket`): each call gathers its own, and trickles what comes late.
    public var keepsSpareSocket = true

    public init() {}
}

/// The one 1:1 call engine the CLI, the TUI, the bots and the demo share. It
/// carries out `CallStateMachine`'s actions: X3DH and the sealed offer/answer through the
/// signaling server, key confirmation, connectivity checks with relay fallback, SRTP media
/// both ways, and wiping every call key when the call ends.
public actor CallEngine {
    /// A new stream of everything the engine reports from now on. Each caller gets its own
    /// (the TUI and a log can both follow one engine); take it before acting, or miss events.
    public nonisolated var events: AsyncStream<CallEngineEvent> { subscribers.subscribe() }
    let subscribers = EventSubscribers<CallEngineEvent>()
    let session: DeviceSession
    let options: CallOptions
    let ownNumber: String

    /// The call in progress, if any; everything secret hangs off it and dies with it.
    var call: ActiveCall?
    /// Call ids already rung for, and the offers' age bound.
    var invitations = InvitationReplayGuard()
    /// The connectivity checks' own clock while they have something to send (`keepChecksPaced`),
    /// and which run of it is the current one.
    var checkPacer: Task<Void, Never>?
    var checkPacerRun = 0
    var signalPump: Task<Void, Never>?
    /// The socket the next call takes, gathered ahead (see `GatheredSocket`), and the loop
    /// that keeps it fresh.
    var spare: Task<GatheredSocket?, Never>?
    var spareKeeper: Task<Void, Never>?

    public init(session: DeviceSession, options: CallOptions = CallOptions()) throws {
        guard let number = try session.store.account().number else { throw CallError.notRegistered }
        self.session = session
        self.options = options
        self.ownNumber = number
    }

    /// Starts listening for calls (and answers to ours).
    public func start() {
        guard signalPump == nil else { return }
        Task.detached { MediaPump.prepareLibraries() }
        let signals = session.callSignals
        signalPump = Task { [weak self] in
            for await signal in signals { await self?.handle(signal) }
        }
        if options.keepsSpareSocket { keepSpare() }
    }

    deinit {
        spareKeeper?.cancel()
        if let spare { Task { await spare.value?.socket.close() } }
    }

    /// The state of the current (or last) call.
    public var state: CallState { call?.machine.state ?? .idle }

    func emit(_ event: CallEngineEvent) { subscribers.yield(event) }

    // MARK: - Placing a call

    /// Rings `number`. Refuses a contact whose key changed unless `acceptKeyChange`.
    /// `forceRelay` overrides the engine's option for this call only (a scripted story
    /// places one call direct and the next through the relay on the same device).
    public func place(to number: String, acceptKeyChange: Bool = false, forceRelay: Bool? = nil) async throws {
        if let call, call.machine.state.isActive { throw CallError.busy }
        let callID = UUID().uuidString.lowercased()
        do { try await session.claim(.call(callID: callID)) } catch { throw CallError.busy }
        do {
            try await ring(number, callID: callID, acceptKeyChange: acceptKeyChange, relayOnly: forceRelay ?? options.forceRelay)
        } catch {
            if call?.callID != callID { await session.release(.call(callID: callID)) }
            throw error
        }
    }

    /// `place`'s work once the device is claimed for the call: the bundle, the offer, the ring.
    private func ring(_ number: String, callID: String, acceptKeyChange: Bool, relayOnly: Bool) async throws {
        let store = session.store
        // The bundle and this device's candidates (the spare socket, or the STUN Binding) are
        // fetched at once: a round trip to the server less before the ring.
        // Gathering waits for its STUN answer no longer than the bundle takes: a mapping that
        // comes later is trickled.
        let patience = Patience()
        let opening = Task { [session, options] in
            try await CallTransport.open(
                session: session, callID: callID, options: options, spare: await self.takeSpare(), patience: patience)
        }
        let bundle: PrekeyBundle
        do {
            bundle = try await session.connection.fetchBundle(number: number)
            // A bundle with another key than the contact's is a key change (the server may be lying).
            if try store.contact(number: number) != nil {
                try store.recordIdentityKey(bundle.identityKey, for: number)
            }
            if case .keyChanged = try store.contact(number: number)?.trust, !acceptKeyChange {
                emit(.notice(.warning(.identityKeyChanged(number: number), CallError.contactKeyChanged(number).description)))
                throw CallError.contactKeyChanged(number)
            }
        } catch {
            patience.end()
            (try? await opening.value)?.socket.close()
            throw error
        }
        patience.end()
        let transport = try await opening.value
        let nonce = SecureRandom.bytes(CallKeys.nonceCount)
        let ssrc = UInt32.random(in: 1...UInt32.max)
        let committed = SASCommitment.random()
        var offer = CallOffer(
            callerNonce: Data(nonce), sasCommitment: Data(committed.commitment), candidates: transport.candidates, ssrc: ssrc,
            relayOnly: relayOnly)
        offer.logsKeys = options.keyLogPath != nil
        offer.takesVideo = options.takesVideo
        let (invitation, secret, ad, ephemeral) = try CallHandshake.invite(
            identity: try store.identity(), callerNumber: ownNumber,
            bundle: bundle, callID: callID, offer: offer)
        let offered = CallKeyExchange.Offered(invitation: invitation, callSecret: secret, ephemeral: ephemeral, sasReveal: committed)
        var active = ActiveCall(
            callID: callID, peer: number, isCaller: true, transport: transport, keyExchange: .offered(offered),
            associatedData: ad, localNonce: nonce, pump: try makePump(ssrc: ssrc))
        active.trickle.lateMapping = transport.lateMapping.map { LateMapping(request: $0) }
        active.peerKey = bundle.identityKey
        call = active
        startTicker()
        await perform(call!.machine.handle(.dial(forceRelay: relayOnly)))
    }

    /// Accepts the ringing call.
    public func accept() async {
        guard let ringing = call, ringing.machine.state == .incoming else { return }
        do { try await session.claim(.call(callID: ringing.callID)) } catch {
            // In a group call or meeting: the caller hears busy, as from a device on a call.
            emit(.notice(.warning(.refused, "declined a call from \(ringing.peer): \(error)")))
            await perform(call!.machine.handle(.userDeclined))
            return
        }
        // Cancelled while the claim was on its way: give the device back.
        guard call?.callID == ringing.callID, call?.machine.state == .incoming else {
            await session.release(.call(callID: ringing.callID))
            return
        }
        await perform(call!.machine.handle(.userAccepted))
    }

    /// Declines the ringing call.
    public func decline() async {
        guard call?.machine.state == .incoming else { return }
        await perform(call!.machine.handle(.userDeclined))
    }

    /// Hangs up (or cancels a call still ringing).
    public func hangUp() async {
        guard call != nil else { return }
        await perform(call!.machine.handle(.userHungUp))
    }

    /// Sends silence instead of the voice, or the voice again.
    public func setMuted(_ muted: Bool) {
        call?.pump.muted = muted
    }

    // MARK: - Signals from the peer

    func handle(_ signal: CallSignal) async {
        if signal.kind == .invite {
            await handleInvite(signal)
            return
        }
        // No copy of the call held here: one would keep the offer's secrets alive through
        // `receiveAnswer`'s awaits.
        guard call?.callID == signal.callID, call?.peer == signal.from else { return }
        switch signal.kind {
        case .answer: await receiveAnswer(signal.payload)
        case .confirm: await receiveConfirmation(signal.payload)
        case .relayAddress: await receiveRelayAddress(signal.payload)
        case .restart: await receiveRestart(signal.payload)
        case .candidates: await receiveTrickle(signal.payload)
        case .decline: await perform(call!.machine.handle(.declineReceived))
        case .busy: await perform(call!.machine.handle(.busyReceived))
        case .cancel: await perform(call!.machine.handle(.cancelReceived))
        case .hangup: await perform(call!.machine.handle(.hangUpReceived))
        case .invite, .senderKey: break  // sender keys belong to group calls
        }
    }

    /// A signal the peer sealed under the call's keys (relay address, restart, trickled
    /// candidates), opened and decoded; nil, with a warning, when it does not authenticate
    /// or decode — the server that forwards it can neither read nor forge one.
    func openSealed<T: Decodable>(_ payload: [UInt8], as type: T.Type, naming what: String) -> T? {
        guard let active = call, let keys = active.keys,
            let plain = try? keys.openSignal(payload, fromCaller: !active.isCaller, callID: active.callID),
            let value = try? JSONDecoder().decode(type, from: Data(plain))
        else {
            emit(.notice(.warning(.refused, "ignored \(what) that did not authenticate")))
            return nil
        }
        return value
    }

    private func handleInvite(_ signal: CallSignal) async {
        if let call, call.machine.state.isActive {
            // One call at a time: tell the second caller we are busy, leave ours alone.
            try? await session.connection.sendCallSignal(
                to: signal.from, callID: signal.callID, kind: CallSignal.Kind.busy.rawValue, payload: [])
            return
        }
        let store = session.store
        do {
            let invitation = try JSONDecoder().decode(CallInvitation.self, from: Data(signal.payload))
            guard invitation.callID == signal.callID, invitation.callerNumber == signal.from else {
                throw CallHandshakeError.malformedInvitation("caller number or call id does not match the signaling envelope")
            }
            let accepted = try CallHandshake.accept(invitation, store: store)
            try invitations.admit(callID: invitation.callID, sentAt: accepted.offer.sentAt)
            var trust = ContactTrust.unverified
            if try store.contact(number: signal.from) != nil {
                trust = try store.recordIdentityKey(accepted.callerIdentity, for: signal.from)
            }
            // Answered at once: a mapping not yet learned is trickled.
            let transport = try await CallTransport.open(
                session: session, callID: signal.callID, options: options, spare: await takeSpare(),
                patience: .none)
            let nonce = SecureRandom.bytes(CallKeys.nonceCount)
            let ssrc = UInt32.random(in: 1...UInt32.max)
            let made = try CallHandshake.calleeKeys(
                callSecret: accepted.callSecret, invitation: invitation,
                callerNonce: [UInt8](accepted.offer.callerNonce), calleeNonce: nonce)
            let answering = CallKeyExchange.Answering(
                callSecret: accepted.callSecret, keys: made.keys, ephemeralKey: made.ephemeralKey.rawRepresentation,
                peerSASCommitment: [UInt8](accepted.offer.sasCommitment))
            var active = ActiveCall(
                callID: signal.callID, peer: signal.from, isCaller: false, transport: transport,
                keyExchange: .answering(answering), associatedData: accepted.associatedData,
                localNonce: nonce, pump: try makePump(ssrc: ssrc))
            active.remoteCandidates = accepted.offer.candidates
            refused(accepted.offer.refusedCandidates)
            active.remoteSSRC = accepted.offer.ssrc
            active.peerTakesVideo = accepted.offer.takesVideo && options.takesVideo
            active.trickle.lateMapping = transport.lateMapping.map { LateMapping(request: $0) }
            call = active
            startTicker()
            let name = try store.contact(number: signal.from)?.name
            emit(.incoming(from: signal.from, name: name, trust: trust))
            if accepted.offer.logsKeys { emit(.notPrivate(.keysLoggedByPeer)) }
            await perform(call!.machine.handle(.offerReceived(forceRelay: accepted.offer.relayOnly || options.forceRelay)))
            if options.autoAnswer { await accept() }
        } catch {
            emit(.notice(.warning(.refused, "refused a call from \(signal.from): \(error)")))
        }
    }

    func send(_ kind: CallSignal.Kind, _ payload: Data) async {
        guard let active = call else { return }
        try? await session.connection.sendCallSignal(to: active.peer, callID: active.callID, kind: kind.rawValue, payload: Array(payload))
    }

    /// Sends without waiting for the server's receipt (`ServerConnection.postCallSignal`): the
    /// answer and the key confirmation, on the way to the first audio.
    func post(_ kind: CallSignal.Kind, _ payload: Data) async {
        guard let active = call else { return }
        await session.connection.postCallSignal(to: active.peer, callID: active.callID, kind: kind.rawValue, payload: Array(payload))
    }

    /// Drops every secret the call still holds: the derived keys, the SRTP sessions (and the
    /// X3DH secret, if the call ended before the answer).
    func wipe() {
        guard var active = call else { return }
        active.pump.stop()
        active.keyExchange = .wiped
        active.checks = nil
        active.relay?.close(now: active.elapsed)
        active.relay = nil
        active.transport.socket.close()
        call = active
        // The one-time prekey an answered call used is deleted already; this takes its last
        // copies out of the store's log too.
        if !active.isCaller { Task.detached { [store = session.store] in try? store.eraseDeletedKeysFromLog() } }
        emit(.keysWiped)
    }

    /// Says which of the peer's candidates could not be used; the call goes on with the rest.
    func refused(_ reasons: [String]) {
        for reason in reasons { emit(.notice(.warning(.refused, "a connectivity candidate from the other device was refused: \(reason)"))) }
    }

}
