import DuetClient
import Foundation

/// 1:1 and group calls: the lines that place, answer, join, change and end them.
extension DemoRunner {
    func call(_ callerName: String, _ calleeName: String, relay: Bool) async throws -> Outcome {
        let (caller, callerLog) = try calls(callerName)
        let (callee, calleeLog) = try calls(calleeName)
        let calleeNumber = try number(of: try device(calleeName))
        let (callerMark, calleeMark) = (callerLog.mark, calleeLog.mark)
        if relay {
            relayMark = try requireWorld().wire.relayedCount
            relayCallers = [try number(of: try device(callerName)), calleeNumber]
        }
        let dialed = ContinuousClock.now
        try await caller.place(to: calleeNumber, forceRelay: relay)
        devices[callerName]?.activity = .call(since: callerMark)
        devices[calleeName]?.activity = .call(since: calleeMark)
        guard await waitUntil(stepTimeout, { await callee.state == .incoming }) else {
            throw DemoFailure("\(calleeName) never rang (state \(await callee.state)); \(callerName) is \(await caller.state)")
        }
        pendingCall = PendingCall(
            caller: callerName, callee: calleeName, dialed: dialed, rang: .now, callerMark: callerMark, calleeMark: calleeMark)
        let trust =
            calleeLog.first(since: calleeMark) { if case let .incoming(_, _, trust) = $0 { trust.label } else { nil } }?.value ?? "?"
        let rang = Self.milliseconds(dialed.duration(to: .now))
        return Outcome(
            "\(calleeName) rings after \(rang) ms, shown as \(trust); the offer was sealed with X3DH keys only the two devices have"
                + (relay ? "\nrelay forced: media goes through the server's TURN relay, still SRTP end to end" : ""))
    }

    func answer(_ name: String) async throws -> Outcome {
        guard let pending = pendingCall, pending.callee == name else { throw DemoFailure("no call is ringing on \(name)") }
        pendingCall = nil
        let (callee, calleeLog) = try calls(name)
        let (caller, callerLog) = try calls(pending.caller)
        let answered = ContinuousClock.now
        await callee.accept()
        let firstAudio = { (log: EventLog<CallEngineEvent>, mark: Int) in log.first(since: mark) { $0 == .firstAudio ? true : nil }?.at }
        let heard = await waitUntil(.seconds(15)) {
            firstAudio(callerLog, pending.callerMark) != nil && firstAudio(calleeLog, pending.calleeMark) != nil
        }
        guard heard, let a = firstAudio(callerLog, pending.callerMark), let b = firstAudio(calleeLog, pending.calleeMark) else {
            throw DemoFailure(
                "no audio both ways within 15 s: \(pending.caller) is \(await caller.state), \(name) is \(await callee.state)")
        }
        // Dial to first audio both ways, less the time the story let it ring before answering.
        let setup = Self.milliseconds(pending.dialed.duration(to: max(a, b)) - pending.rang.duration(to: answered))
        guard case let .connected(path) = await caller.state else { throw DemoFailure("\(pending.caller) is \(await caller.state)") }
        let cipher = callerLog.last(since: pending.callerMark) { if case let .cipher(name) = $0 { name } else { nil } } ?? "SRTP"
        return Outcome(
            "connected \(path.label) with \(cipher); call setup \(setup) ms (dial → first audio decoded on both sides, not counting the ring before the answer)",
            timings: ["call_setup_\(path.kind)_ms": setup])
    }

    func hangUp(_ name: String) async throws -> Outcome {
        let (engine, log) = try calls(name)
        guard case .connected = await engine.state else { throw DemoFailure("\(name) is in no 1:1 call (\(await engine.state))") }
        let mark = log.mark
        await engine.hangUp()
        guard await waitUntil(.seconds(5), { log.first(since: mark) { $0 == .keysWiped ? true : nil } != nil }) else {
            throw DemoFailure("\(name)'s call did not end")
        }
        return Outcome("\(name) hung up")
    }

    // MARK: - Group calls

    func createGroup(_ group: String, owner: String, members: [String]) async throws -> Outcome {
        let session = try device(owner).session
        let numbers = try members.map { try number(of: try device($0)) }
        let info = try await session.connection.createGroup(name: group, members: numbers)
        groups[group] = (info.id, owner)
        return Outcome("\(owner) owns \(group) (\(info.id)); members \(members.joined(separator: ", "))")
    }

    func startGroupCall(_ name: String, _ group: String) async throws -> Outcome {
        guard let id = groups[group]?.id else { throw DemoFailure("\(group) was not made") }
        let (engine, log) = try groupCalls(name)
        devices[name]?.activity = .group(since: log.mark)
        let info = try await engine.start(group: id)
        groupCallIDs.insert(info.callID)
        guard await waitUntil(stepTimeout, { await engine.snapshot()?.mediaConnected == true }) else {
            throw DemoFailure("\(name)'s DTLS-SRTP leg to the SFU did not come up")
        }
        return Outcome(
            "\(name) started a call in \(group); every member is rung\nmedia: DTLS-SRTP leg to the SFU, voice SFrame-encrypted inside it")
    }

    func join(_ name: String) async throws -> Outcome {
        let (engine, log) = try groupCalls(name)
        guard await waitUntil(stepTimeout, { await !engine.invitations.isEmpty }), let invitation = await engine.invitations.first else {
            throw DemoFailure("\(name) is not rung for any group call")
        }
        devices[name]?.activity = .group(since: log.mark)
        _ = try await engine.join(callID: invitation.callID)
        guard await waitUntil(stepTimeout, { await engine.snapshot()?.mediaConnected == true }) else {
            throw DemoFailure("\(name)'s DTLS-SRTP leg to the SFU did not come up")
        }
        return Outcome("\(name) joined \(invitation.group.name) with \(invitation.participants.count) already in it")
    }

    /// Leaves a group call (the others rekey) or a meeting (the host's leaving ends it).
    func leave(_ name: String) async throws -> Outcome {
        let device = try device(name)
        if let groups = device.groups, let snapshot = await groups.snapshot() {
            try await markMembershipChange("leave", excluding: name)
            await groups.leave()
            guard snapshot.participants.count > 1 else { return Outcome("\(name) left \(snapshot.group.name), the last one in the call") }
            return Outcome("\(name) left \(snapshot.group.name): the others make new sender keys, which \(name) never gets")
        }
        if let snapshot = await device.meetings.snapshot() {
            await device.meetings.leave()
            return Outcome(snapshot.isHost ? "\(name) left; as host, that ends the meeting for everyone" : "\(name) left the meeting")
        }
        throw DemoFailure("\(name) is in no group call or meeting")
    }

    func mute(_ name: String, _ on: Bool) async throws -> Outcome {
        let device = try device(name)
        if let calls = device.calls, case .connected = await calls.state {
            await calls.setMuted(on)
        } else if let groups = device.groups, await groups.snapshot() != nil {
            await groups.setMuted(on)
        } else if await device.meetings.snapshot() != nil {
            await device.meetings.setMuted(on)
        } else {
            throw DemoFailure("\(name) is in no call or meeting to \(on ? "mute" : "unmute")")
        }
        return Outcome(on ? "\(name) sends silence" : "\(name) speaks again")
    }

    func changeGroup(_ group: String, adding member: String) async throws -> Outcome {
        guard let (id, owner) = groups[group] else { throw DemoFailure("\(group) was not made") }
        try await markMembershipChange("add", excluding: member)
        let info = try await device(owner).session.connection.addGroupMember(group: id, number: try number(of: try device(member)))
        return Outcome(
            "\(owner) added \(member) to \(group) (\(info.members.count) members); in a call, \(member) is rung and everyone rekeys so \(member) cannot read what came before"
        )
    }

    func changeGroup(_ group: String, removing member: String) async throws -> Outcome {
        guard let (id, owner) = groups[group] else { throw DemoFailure("\(group) was not made") }
        try await markMembershipChange("remove", excluding: member)
        let info = try await device(owner).session.connection.removeGroupMember(group: id, number: try number(of: try device(member)))
        return Outcome(
            "\(owner) removed \(member) from \(group) (\(info.members.count) members left); \(member) is out of the call and the rest rekey"
        )
    }

    /// Remembers every group-call device's epoch before a membership change, so `expect rekey`
    /// can see each move past it and time how long that took.
    func markMembershipChange(_ what: String, excluding: String) async throws {
        var epochs: [String: UInt16] = [:]
        var marks: [String: Int] = [:]
        for (name, device) in devices where name != excluding {
            if let snapshot = await device.groups?.snapshot(), let epoch = snapshot.epoch { epochs[name] = epoch }
            marks[name] = device.groupLog?.mark ?? 0
        }
        membershipChange = MembershipChange(
            at: .now, epochs: epochs, marks: marks, cause: what == "add" ? .memberAdded : .memberLeft, what: what)
    }
}
