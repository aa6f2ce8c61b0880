import DuetCrypto
import DuetMedia
import DuetWire
import Foundation

extension CallEngine: MediaPumpDriver {
    /// The pump of a call this engine places or answers, sending `ssrc`.
    func makePump(ssrc: UInt32) throws -> MediaPump {
        let media = MediaOptions(opusComplexity: options.opusComplexity, voiceEncoding: options.voiceEncoding)
        return MediaPump(
            outbound: try OutboundMedia(voice: ownNumber, source: options.echo ? .echo : .synthetic, ssrc: ssrc, options: media),
            playsFirstFrameAtOnce: true)
    }

    /// Starts the call's frame clock and routes the call socket's datagrams into the engine.
    func startTicker() {
        guard let active = call else { return }
        active.pump.read(into: self) { inbox in active.transport.socket.setHandler { datagram in inbox.deliver(datagram) } }
        active.pump.startClock(self)
    }

    func pumpReceived(_ batch: [MediaSocket.Datagram]) async {
        for datagram in batch { await handleDatagram(datagram) }
    }

    func pumpTicked(completingSecond: Bool) async -> Bool { await tick() }

    /// One engine tick; false once the call has ended and everything is released.
    func tick() async -> Bool {
        guard let active = call else { return false }
        if case .ended = active.machine.state {
            active.transport.socket.setHandler(nil)
            return false
        }
        let now = active.elapsed
        // The relay client resends what is unanswered (the checks have their own clock).
        if let relay = active.relay { await carryOut(relay.tick(now: now)) }
        resendLateMapping()
        // Timers the state machine asked for.
        let due = (call?.timers ?? [:]).filter { $0.value <= ContinuousClock.now }.map(\.key)
        for timer in due {
            call?.timers[timer] = nil
            await perform(call!.machine.handle(.timerFired(timer)))
        }
        // Media: send the frames that are due, play one out, report once a second.
        guard let current = call, case .connected = current.machine.state, current.pump.hasKeys else { return true }
        await watchNetwork()
        await watchRelay()
        sendDueFrames()
        if current.pump.playout() { emit(.firstAudio) }
        showVideo()
        if let last = current.lastReport, ContinuousClock.now - last < .seconds(1) { return true }
        call?.lastReport = ContinuousClock.now
        if current.lastReport != nil, let stream = current.pump.streams[current.peer] {
            emit(.hearing(hearingReport(stream.report(), pump: current.pump)))
        }
        reportVideo()
        return true
    }

    /// Ta (RFC 8445 §14.2): one check leaves per this interval — 5 ms, the floor §14.2 sets,
    /// rather than its 50 ms default: a check list here holds at most 16 pairs, each given up
    /// after `ConnectivityChecks.attemptsPerAddress`, and at the old 20 ms the server-reflexive
    /// pair, checked after the host ones, cost a call a tick or two.
    static let checkPace = Duration.milliseconds(5)

    /// Runs the checks on their own clock while they have something to send or resend; every
    /// change to the checks calls it again. A check due now leaves now, not at the clock's
    /// first turn (the best pair's check is the one a call waits for).
    func keepChecksPaced() async {
        guard checkPacer == nil, call?.checks != nil else { return }
        checkPacerRun += 1
        let run = checkPacerRun
        checkPacer = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: CallEngine.checkPace)
                guard let self, await self.paceChecks(run: run) else { return }
            }
        }
        _ = await paceChecks(run: run)
    }

    /// One step of the checks' clock `run`; false once a later run took over, or nothing is
    /// left to send (the pacer is then forgotten in the same turn, so the next change starts
    /// another).
    private func paceChecks(run: Int) async -> Bool {
        guard run == checkPacerRun, checkPacer != nil else { return false }
        guard var checks = call?.checks, let now = call?.elapsed, checks.isPacing else {
            checkPacer = nil
            return false
        }
        let actions = checks.tick(now: now)
        call?.checks = checks
        await carryOut(actions)
        return true
    }

    // MARK: - Datagrams

    func handleDatagram(_ datagram: MediaSocket.Datagram) async {
        guard let active = call else { return }
        if let relay = active.relay, datagram.source == relay.server {
            // The relay listens on the server's media port, where this device's own Bindings go
            // too (the mapping learned late, a restart's): their answers are not the relay's.
            if learnRestartMapping(datagram.bytes, from: datagram.source) { return }
            if await learnLateMapping(datagram.bytes, from: datagram.source) { return }
            switch relay.receive(datagram.bytes, now: active.elapsed) {
            case let .media(peer, payload): await handlePeerDatagram(payload, from: peer)
            case let .control(events): await carryOut(events)
            }
            return
        }
        await handlePeerDatagram(datagram.bytes, from: datagram.source)
    }

    private func handlePeerDatagram(_ bytes: [UInt8], from source: TransportAddress) async {
        options.peerDatagramTap?(bytes)
        guard let active = call else { return }
        let (peer, remoteSSRC) = (active.peer, active.remoteSSRC)
        let received = active.pump.receive(bytes) { packet in
            packet.ssrc == remoteSSRC ? MediaPump.OpenedFrame(source: peer, payload: packet.payload) : nil
        }
        switch received {
        case .video, .rtcp:
            mediaHeard()
        case let .media(source, firstHeard):
            if firstHeard { emit(.firstAudio) }
            mediaHeard()
            if (active.pump.streams[source]?.received ?? 0) % 10 == 1 {
                await perform(call!.machine.handle(.mediaReceived))
            }
        case .stun:
            if learnRestartMapping(bytes, from: source) { return }
            if await learnLateMapping(bytes, from: source) { return }
            guard var checks = call?.checks, let now = call?.elapsed else { return }
            let actions = checks.receive(bytes, from: source, now: now)
            call?.checks = checks
            await carryOut(actions)
            await keepChecksPaced()
        case .dtls, .unclaimed, .dropped:
            break
        }
    }

    private func carryOut(_ actions: [ConnectivityChecks.Action]) async {
        for action in actions {
            switch action {
            case let .send(bytes, to):
                call?.transport.socket.send(bytes, to: to)
            case let .selected(address):
                if call?.directPeer == nil {
                    call?.directPeer = address
                    await perform(call!.machine.handle(.pathEstablished(.p2p)))
                } else if address != call?.directPeer, case .connected(.p2p)? = call?.machine.state {
                    // A restart found a new pair: media moves there (the keys stay).
                    call?.directPeer = address
                    emit(.path(.p2p, address))
                }
            }
        }
    }

    // MARK: - Network change (MediaRestart)

    /// Once a second looks at the interfaces' addresses: a change, or no media heard for a
    /// while on a direct path, starts a restart; a restart sends its candidates once it has
    /// its new server-reflexive address, or has waited long enough for it.
    func watchNetwork() async {
        guard var active = call, case .connected(.p2p) = active.machine.state else { return }
        let now = ContinuousClock.now
        if var restart = active.network.restart, let changed = addressesChanged(&active, now: now) {
            call?.network.addressesCheckedAt = now
            call?.network.hostAddresses = active.network.hostAddresses
            // The network moved again under the restart (an interface came up before the old one
            // went down): signaling reconnects from the newest address, and the mapping is asked
            // for again — one learned on the way out may be the old network's.
            if changed {
                restart.reflexive = nil
                restart.mappingSentAt = nil
                call?.network.restart = restart
                await session.connection.networkChanged()
                return
            }
        }
        if var restart = call?.network.restart {
            if restart.reflexive == nil, restart.mappingSentAt.map({ now - $0 >= MediaRestart.bindingInterval }) ?? true,
                let server = active.transport.serverMedia
            {
                let mapping = MappingRequest()
                active.transport.socket.send(mapping.bytes, to: server)
                restart.mapping = mapping
                restart.mappingSentAt = now
            }
            let due =
                restart.sent
                ? restart.reflexive != restart.sentReflexive
                    || (!restart.answered && now - (restart.sentAt ?? now) >= MediaRestart.resendInterval)
                : restart.reflexive != nil || now - restart.startedAt >= MediaRestart.gatheringLimit
            if due {
                restart.sent = true
                restart.sentAt = now
                restart.sentReflexive = restart.reflexive
            }
            call?.network.restart = restart
            if due { await sendRestart(isReply: false, reflexive: restart.reflexive) }
            return
        }
        var cause: RestartCause? = addressesChanged(&active, now: now) == true ? .networkChanged : nil
        if cause == nil, let heard = active.network.lastMediaAt, now - heard >= MediaRestart.silenceBeforeRestart { cause = .silence }
        call = active
        guard let cause, active.network.lastRestartAt.map({ now - $0 >= MediaRestart.minimumInterval }) ?? true else { return }
        await beginRestart(because: cause)
    }

    /// Whether the interfaces' addresses changed since last looked at (nil: not time to look);
    /// `active` keeps the new ones.
    func addressesChanged(_ active: inout ActiveCall, now: ContinuousClock.Instant) -> Bool? {
        guard now - active.network.addressesCheckedAt >= HostAddresses.checkInterval else { return nil }
        active.network.addressesCheckedAt = now
        let current = active.transport.hostAddresses()
        guard Set(current) != Set(active.network.hostAddresses) else { return false }
        active.network.hostAddresses = current
        return true
    }

    /// Notes the restart (its Binding for the new mapping goes out on the next tick).
    private func beginRestart(because cause: RestartCause) async {
        guard var active = call else { return }
        active.network.restart = RestartProgress(startedAt: .now, lastMediaBefore: active.network.lastMediaAt)
        active.network.lastRestartAt = .now
        call = active
        emit(.notice(.warning(.media, "\(cause.rawValue) — reconnecting media")))
        // This device moved: its signaling reconnects first, so the restart gets longer to bring
        // media back. Mere silence keeps the usual 4 s (a vanished peer is noticed as soon).
        guard cause == .networkChanged else { return }
        await session.connection.networkChanged()
        await perform(call!.machine.handle(.restarting))
    }

    /// The server's answer to a restart's STUN Binding: the new server-reflexive address.
    private func learnRestartMapping(_ bytes: [UInt8], from source: TransportAddress) -> Bool {
        guard source == call?.transport.serverMedia, let mapped = call?.network.restart?.mapping?.mapped(in: bytes) else { return false }
        call?.network.restart?.reflexive = mapped
        return true
    }

    /// Sends this device's current candidates, sealed: a restart, or the reply to the peer's.
    func sendRestart(isReply: Bool, reflexive: TransportAddress?) async {
        guard var active = call, let keys = active.keys else { return }
        active.network.restartGeneration += 1
        call = active
        let message = MediaRestart(
            generation: active.network.restartGeneration, candidates: active.transport.candidates(reflexive: reflexive),
            isReply: isReply)
        guard let payload = try? JSONEncoder().encode(message) else { return }
        let sealed = keys.sealSignal(Array(payload), fromCaller: active.isCaller, callID: active.callID)
        // Not awaited: the signaling connection may be reconnecting, and the media clock that
        // calls this must not wait for it (an unanswered restart is sent again).
        let (peer, callID) = (active.peer, active.callID)
        Task { [session] in
            try? await session.connection.sendCallSignal(to: peer, callID: callID, kind: CallSignal.Kind.restart.rawValue, payload: sealed)
        }
    }

    /// The peer's restart (or its reply to ours): check its new candidates, answer once.
    func receiveRestart(_ payload: [UInt8]) async {
        guard let active = call, let keys = active.keys, case .connected(.p2p) = active.machine.state else { return }
        guard let restart = openSealed(payload, as: MediaRestart.self, naming: "a restart") else { return }
        guard restart.generation > active.network.peerRestartGeneration else { return }  // replayed or stale
        call?.network.peerRestartGeneration = restart.generation
        if restart.isReply { call?.network.restart?.answered = true }
        for reason in restart.refusedCandidates {
            emit(.notice(.warning(.refused, "a connectivity candidate from the other device was refused: \(reason)")))
        }
        // The same candidates again (a resent restart, or the reply to ours): the checks under
        // way go on rather than start over.
        let offered = active.transport.usable(restart.candidates)
        let checking = Set(active.checks?.remoteCandidates.filter { $0.kind != .peerReflexive }.map(\.address) ?? [])
        let unchanged = active.checks?.selected == nil && checking == Set(offered.map(\.address))
        if !unchanged {
            call?.checks = ConnectivityChecks(
                role: active.isCaller ? .controlling : .controlled,
                local: active.isCaller ? keys.caller : keys.callee,
                remote: active.isCaller ? keys.callee : keys.caller,
                remoteCandidates: offered)
            await keepChecksPaced()
        }
        guard !restart.isReply else { return }
        // This device's mapping: the one its own restart learned, else (its network did not change) the first.
        let original = active.trickle.lateReflexive ?? active.transport.candidates.first { $0.kind == .serverReflexive }?.address
        if active.network.restart == nil {
            emit(.notice(.warning(.media, "the other device's network changed — reconnecting media")))
            call?.network.restart = RestartProgress(
                startedAt: .now, reflexive: original, sent: true, sentReflexive: original, answered: true,
                lastMediaBefore: active.network.lastMediaAt)
            await perform(call!.machine.handle(.restarting))
        }
        let reflexive = call?.network.restart?.reflexive
        await sendRestart(isReply: true, reflexive: reflexive)
    }

    /// Media arrived: a restart that had sent its candidates and been answered is over, and if
    /// media had stopped, the gap is reported. Media alone does not end it: right after a move
    /// the old path may still carry the other device's media for a while, and a restart sent
    /// while signaling was reconnecting may never have reached it — it is sent again until
    /// answered (or, with media flowing, for `answerLimit`).
    private func mediaHeard() {
        let now = ContinuousClock.now
        defer { call?.network.lastMediaAt = now }
        guard let restart = call?.network.restart, restart.sent, restart.answered || now - restart.startedAt >= MediaRestart.answerLimit
        else {
            return
        }
        call?.network.restart = nil
        let since = restart.lastMediaBefore ?? restart.startedAt
        let milliseconds = (now - since).milliseconds
        if milliseconds >= 100 { emit(.mediaResumed(gapMilliseconds: milliseconds)) }
    }
}
