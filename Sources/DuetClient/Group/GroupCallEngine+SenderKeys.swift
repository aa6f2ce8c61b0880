import DuetCrypto
import DuetMedia
import Foundation

/// Sender-key distribution and the room's changes (docs/group-calls.md): a key goes to each
/// member sealed on a pairwise channel the server cannot read; a member who leaves makes
/// everyone left rotate, so what follows is under a key the leaver never had.
extension GroupCallEngine {
    /// One item of the news queue.
    func handle(_ news: DeviceSession.GroupCallNews) async {
        switch news {
        case let .senderKey(signal): acceptSenderKey(signal)
        case let .room(change): await perform(machine.handle(.roomChanged(change)))
        case let .group(change): await perform(machine.handle(.groupChanged(change)))
        case .reconnected: await rejoin()
        // Entering again places the room on a live node, with a new leg and a new key.
        case let .roomLost(callID) where call?.callID == callID: await rejoin()
        case .roomLost: break
        }
    }

    /// One item of the key queue, unless it is stale (`ActiveCall.instance`).
    func handle(_ work: KeyWork) async {
        switch work {
        case let .rekey(cause, recipients, instance):
            guard call?.instance == instance else { return }
            await rekey(cause, to: recipients)
        case let .giveKey(member, instance):
            guard call?.instance == instance else { return }
            await giveCurrentKey(to: member)
        }
    }

    /// Makes the next key, hands it to `recipients` (not to us), then sends under it.
    func rekey(_ cause: RekeyCause, to recipients: [String]) async {
        guard let active = call else { return }
        let announcement = active.ring.rotate(cause: cause)
        await distribute(announcement, to: recipients)
        guard call?.instance == active.instance else { return }
        do {
            try active.ring.activate()
            // A rejoin's key active: the new leg's frames may flow (`GroupCallStateMachine`).
            _ = machine.handle(.rekeyed(cause))
            eventSink.yield(.rekey(cause, epoch: announcement.epoch))
        } catch {
            eventSink.yield(.notice(.warning(.group, "switching to the new sender key: \(error)")))
        }
    }

    /// Seals `announcement` for each recipient on this call's channel to them (opening one
    /// with their prekey bundle the first time) and sends every copy at once. A recipient that
    /// cannot be reached now gets the current key when the room shows them joining. The
    /// bundles of all the channels to open come in one request, so a member joining a full
    /// room costs the server one transaction, not one per member (docs/group-calls.md). Runs
    /// on the key queue only, one run at a time: copies to different members leave together,
    /// but two runs never overlap, so a member's channel counters arrive in order.
    func distribute(_ announcement: SenderKeyAnnouncement, to recipients: [String]) async {
        guard let callID = call?.callID, let instance = call?.instance else { return }
        // Who must hold the key is decided now, not when the work was queued: a member who
        // left or was removed since gets nothing (`GroupCallStateMachine.Room.keyHolders`).
        let holders = Set(room?.keyHolders() ?? [])
        // The announcement's JSON holds the key in the clear: wiped once every copy is sealed.
        var plaintext: [UInt8]
        do { plaintext = Array(try JSONEncoder().encode(announcement)) } catch { return }
        defer { wipe(&plaintext) }
        let admitted = admittedKeys()
        var vouched: [(member: String, key: IdentityPublicKey)] = []
        for member in Set(recipients).intersection(holders).subtracting([number]).sorted() {
            guard let key = admitted[member] else {
                withhold(member, Self.unvouchedWithheld(member))
                continue
            }
            vouched.append((member, key))
        }
        // What is held of a member may be dropped while this awaits the server (they left): their
        // copy is then neither sealed nor recorded as given — the key queue's next run serves
        // them on a fresh channel if they come back. A rejoin meanwhile ends the run (`instance`).
        let before = Dictionary(uniqueKeysWithValues: vouched.map { ($0.member, call?.channelGeneration(of: $0.member)) })
        let unchanged = { [self] (member: String) in call?.channelGeneration(of: member) == before[member] }
        let opening = vouched.map(\.member).filter { call?.senders[$0] == nil }
        var bundles: [String: Result<PrekeyBundle, ServerConnectionError>] = [:]
        if !opening.isEmpty {
            do { bundles = try await session.connection.fetchBundles(numbers: opening) } catch {
                for member in opening { bundles[member] = .failure(error) }
            }
            guard call?.instance == instance else { return }
        }
        var sealed: [(member: String, payload: [UInt8])] = []
        for (member, vouchedKey) in vouched where unchanged(member) {
            do {
                guard let sender = try channel(to: member, vouchedKey: vouchedKey, bundle: bundles[member], callID: callID) else {
                    continue
                }
                let header = call?.opened.contains(member) == true ? nil : sender.header
                sealed.append((member, Array(try JSONEncoder().encode(SenderKeySignal(header: header, message: sender.seal(plaintext))))))
            } catch {
                eventSink.yield(.notice(.warning(.group, "could not give \(member) the sender key: \(error)")))
            }
        }
        let sent = await send(sealed, callID: callID)
        guard call?.instance == instance else { return }
        for (member, failure) in sent {
            if let failure {
                eventSink.yield(.notice(.warning(.group, "could not give \(member) the sender key: \(failure)")))
                continue
            }
            guard unchanged(member) else { continue }
            call?.opened.insert(member)
            call?.delivered[member] = announcement.epoch
            eventSink.yield(.keyGiven(to: member, epoch: announcement.epoch))
        }
    }

    /// This call's channel to `member`, opened from `bundle` if there is none yet; nil (with a
    /// warning) when the bundle's key is not the one held or vouched for.
    private func channel(
        to member: String, vouchedKey: IdentityPublicKey, bundle: Result<PrekeyBundle, ServerConnectionError>?, callID: String
    ) throws -> PairwiseSender? {
        if let known = call?.senders[member] { return known }
        guard let bundle = try bundle?.get() else { return nil }
        // As on a 1:1 call: a contact's bundle under another key than the one held is a key
        // change (the server may be handing out keys of its own), and nothing is sealed to a
        // changed key until the user compares safety numbers again — else a server that swaps a
        // bundle would get this call's sender key, and with it (as the SFU) everything said.
        // Verified again, they get the next key handed out.
        if try session.store.contact(number: member) != nil,
            case .keyChanged = try session.store.recordIdentityKey(bundle.identityKey, for: member)
        {
            eventSink.yield(.notice(.warning(.keyWithheld(member: member), Self.keyChangedWithheld(member))))
            return nil
        }
        guard bundle.identityKey == vouchedKey else {
            withhold(member, Self.keyNotVouchedWithheld(member))
            return nil
        }
        let sender = try PairwiseSender(identity: try session.store.identity(), to: bundle, callID: callID)
        call?.senders[member] = sender
        return sender
    }

    /// Sends every sealed key in one request; each member's failure (nil: the server handed it on).
    private func send(_ sealed: [(member: String, payload: [UInt8])], callID: String) async -> [(String, ServerConnectionError?)] {
        let outcomes = await session.connection.sendCallSignals(
            callID: callID, kind: CallSignal.Kind.senderKey.rawValue, sealed.map { (to: $0.member, payload: $0.payload) })
        return outcomes.map { ($0.to, $0.failure) }
    }

    /// The current key to `member`, unless they have it already.
    private func giveCurrentKey(to member: String) async {
        guard let active = call, let current = active.ring.currentAnnouncement, active.delivered[member] != current.epoch else { return }
        await distribute(current, to: [member])
    }

    /// The members of the call's group whose vouches verify (`GroupVouches`), each with the key
    /// vouched for; none if the group shows another founding than the one this device pinned.
    func admittedKeys() -> [String: IdentityPublicKey] {
        guard let group = room?.group else { return [:] }
        if let admitted = call?.admitted, admitted.group == group { return admitted.keys }
        var keys = GroupVouches.vouched(group)
        if let founding = group.founding, (try? session.store.pinGroupFounding(founding, groupID: group.id)) != true {
            eventSink.yield(.notice(.warning(.group, Self.foundingChanged(group.name))))
            keys = [:]
        }
        call?.admitted = (group, keys)
        return keys
    }

    /// Tells once per call that `member` is not given this device's sender key, and why.
    func withhold(_ member: String, _ warning: String) {
        guard call?.withheld.contains(member) == false else { return }
        call?.withheld.insert(member)
        eventSink.yield(.notice(.warning(.keyWithheld(member: member), warning)))
    }

    /// A member's sender key: opened on their channel (accepted from its header the first
    /// time) and installed under their number — the number the server authenticated.
    func acceptSenderKey(_ signal: CallSignal) {
        guard var active = call, active.callID == signal.callID else {
            if early.count < 256 { early.append(signal) }
            return
        }
        do {
            let wire = try JSONDecoder().decode(SenderKeySignal.self, from: Data(signal.payload))
            var plaintext: [UInt8] = []
            defer { wipe(&plaintext) }  // the announcement's JSON, key included
            if let receiver = active.receivers[signal.from], let opened = try? receiver.open(wire.message) {
                plaintext = opened
            } else {
                // No channel from them yet, or a message the one held cannot open: a new channel
                // (its header) replaces it — they opened a fresh one after rejoining, having lost
                // the server or forgotten us when the server said we left.
                guard let header = wire.header else {
                    if let receiver = active.receivers[signal.from] { _ = try receiver.open(wire.message) }  // throws why
                    throw PairwiseChannelError.malformedHeader("no channel header yet")
                }
                guard !active.acceptedChannels.contains(header.ephemeralKey) else { throw PairwiseChannelError.replayedHeader }
                let accepted = try PairwiseReceiver.accept(header, firstMessage: wire.message, store: session.store, callID: active.callID)
                active.acceptedChannels.insert(header.ephemeralKey)
                active.receivers[signal.from] = accepted.receiver
                plaintext = accepted.plaintext
                noteIdentity(header, of: signal.from)
            }
            let announcement = try JSONDecoder().decode(SenderKeyAnnouncement.self, from: Data(plaintext))
            try active.ring.install(announcement, from: signal.from)
            if capturePayloads {
                active.retainedKeys[signal.from, default: []].append(announcement)
                active.receivedSignals.append(signal)
            }
            call = active
            eventSink.yield(.keyReceived(from: signal.from, epoch: announcement.epoch))
        } catch {
            eventSink.yield(.notice(.warning(.refused, "ignored a sender key from \(signal.from): \(error)")))
        }
    }

    /// The channel's identity key is the key of the number the server says sent it: for a
    /// contact it is recorded, as on a 1:1 call, and a change since verification is shown.
    func noteIdentity(_ header: PairwiseChannelHeader, of member: String) {
        guard (try? session.store.contact(number: member)) != nil,
            let key = try? IdentityPublicKey(rawRepresentation: [UInt8](header.senderIdentityKey)),
            case .keyChanged = try? session.store.recordIdentityKey(key, for: member)
        else { return }
        eventSink.yield(
            .notice(
                .warning(
                    .identityKeyChanged(number: member),
                    "\(member)'s identity key is not the one you verified: compare safety numbers before trusting this call")))
    }

    /// Carries out the room's actions. A rekey or a key to give goes on the key queue (keys
    /// change and go out only there); news replayed goes on the news queue, behind what came.
    func perform(_ actions: [GroupCallStateMachine.Action]) async {
        for action in actions {
            switch action {
            case let .listen(member): try? addListener(member)
            case let .forget(members): forget(members)
            case let .giveCurrentKey(member):
                if let instance = call?.instance { keySink?.yield(.giveKey(member, instance: instance)) }
            case let .rekey(cause, holders):
                if let instance = call?.instance { keySink?.yield(.rekey(cause, to: holders, instance: instance)) }
            case let .emit(event): eventSink.yield(event)
            case let .noteRing(change): noteRing(change)
            case let .replay(change): newsSink?.yield(.room(change))
            case let .leave(tellServer): await end(tellServer: tellServer)
            }
        }
    }

    /// Drops what this device held of members who are gone: their keys, listener, and both
    /// channels (one who comes back — re-added, rejoining — gets a fresh X3DH channel, since
    /// their side forgot the old one when they left).
    func forget(_ members: [String]) {
        guard let active = call else { return }
        for member in members {
            active.ring.remove(member: member)
            active.media.pump.removeStream(of: member)
            active.media.pump.video?.forget(member)
            // Read, then write: `call?.x = call?.x…` would read `call` inside its own modify access.
            let owners = call?.ssrcOwners.filter { $0.value != member } ?? [:]
            call?.ssrcOwners = owners
            call?.receivers[member] = nil
            call?.senders[member] = nil
            call?.opened.remove(member)
            call?.delivered[member] = nil
            call?.channelResets[member, default: 0] += 1
            hearing[member] = nil
        }
    }

    /// Notes a call this device is rung for (or that it left and may rejoin); told once per call.
    func noteRing(_ change: DeviceSession.GroupCallEvent) {
        let room = change.call
        guard !room.participants.contains(number) else { return }
        if room.participants.isEmpty {
            rung[room.callID] = nil
            early.removeAll { $0.callID == room.callID }
            return
        }
        let isNew = rung[room.callID] == nil
        rung[room.callID] = room
        if isNew, call == nil { eventSink.yield(.ringing(room)) }
    }
}

extension GroupCallEngine {
    /// The warning when nobody's vouch admits a member (the server's word alone put them there).
    static func unvouchedWithheld(_ member: String) -> String {
        "not giving \(member) this call's sender key: no member of the group vouched for them (the server may have added them on its own); ask whoever should have added them to add them again"
    }

    /// The warning when the key the server gives for a member is not the one they were vouched for.
    static func keyNotVouchedWithheld(_ member: String) -> String {
        "not giving \(member) this call's sender key: the server gives another identity key for them than the one they were added with; compare safety numbers, then have them added again"
    }

    /// The warning when the server shows a group under another founding than the one pinned.
    static func foundingChanged(_ group: String) -> String {
        "not giving anyone in \(group) this call's sender key: the server shows the group under another founder than before (it may be rebuilding it with members of its own)"
    }

    /// The warning when a member's key changed and this device keeps its sender key from them.
    static func keyChangedWithheld(_ member: String) -> String {
        "not giving \(member) this call's sender key: their identity key changed since you last saw it (someone, even the server, may be posing as them); compare safety numbers (duet contacts verify \(member))"
    }
}
