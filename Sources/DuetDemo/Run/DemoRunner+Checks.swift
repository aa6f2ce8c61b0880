import DuetClient
import DuetMedia
import DuetServer
import DuetWire
import Foundation

/// The `expect` lines. Those about what is heard, who is in a call and new keys wait up to
/// the check timeout for the property (audio takes a second to analyse), and so does the SAS
/// (each side shows it when its own keys are confirmed); those about what already happened
/// (path, recording) look once. Each says what it saw either way.
extension DemoRunner {
    func check(_ expectation: DemoExpectation) async throws -> Outcome {
        switch expectation {
        case let .hears(listener, speakers): return try await hears(listener, speakers, wanted: true)
        case let .hearsNot(listener, speakers): return try await hears(listener, speakers, wanted: false)
        case let .sees(viewer, shown): return try await sees(viewer, shown)
        case let .path(name, path): return try await expectPath(name, path)
        case let .sas(a, b): return try await expectSAS(a, b)
        case .ciphertext(.relay): return try await relayCarriedCiphertext()
        case .ciphertext(.sfu): return try sfuCarriedCiphertext()
        case let .serverHears(names): return try await serverHears(names)
        case let .rekey(names): return try await rekeyed(names)
        case let .inCall(names): return try await inCall(names)
        case let .wiped(names): return try await wiped(names)
        case let .recording(names): return try recordingHas(names)
        }
    }

    // MARK: - Hearing

    /// Where a device is now, for hearing checks.
    private enum Presence {
        case call, group, meeting, nowhere
    }

    private func presence(of device: DemoDevice) async -> Presence {
        if let calls = device.calls, case .connected = await calls.state { return .call }
        if await device.groups?.snapshot() != nil { return .group }
        if await device.meetings.snapshot() != nil { return .meeting }
        return .nowhere
    }

    /// What `listener` hears of `speaker` where it is now: nil when the voice is not heard,
    /// a description when it is.
    private func hearing(_ listener: DemoDevice, of speaker: DemoDevice, in presence: Presence) async -> String? {
        switch presence {
        case .call:
            guard let number = speaker.number, case let .call(since) = listener.activity,
                let report = listener.callLog?.last(since: since, { if case let .hearing(report) = $0 { report } else { nil } }),
                report.speaker?.hasSuffix("(\(number))") == true
            else { return nil }
            return "\(HearingReport.oneDecimal(report.level)) dBFS, loss \(HearingReport.oneDecimal(report.lossPercent))%"
        case .group:
            guard let number = speaker.number, let hearing = await listener.groups?.snapshot()?.hearing[number], hearing.heard else {
                return nil
            }
            return "\(HearingReport.oneDecimal(hearing.level)) dBFS, key epoch \(hearing.epoch.map(String.init) ?? "-")"
        case .meeting:
            guard let id = participantID(of: speaker), let hearing = await listener.meetings.snapshot()?.hearing[id], hearing.heard else {
                return nil
            }
            return "\(HearingReport.oneDecimal(hearing.level)) dBFS"
        case .nowhere:
            return nil
        }
    }

    private func hears(_ listenerName: String, _ speakerNames: [String], wanted: Bool) async throws -> Outcome {
        let listener = try device(listenerName)
        let speakers = try speakerNames.map { try device($0) }
        var found: [String: String] = [:]
        var whereabouts = Presence.nowhere
        let held = await waitUntil {
            whereabouts = await presence(of: listener)
            guard whereabouts != .nowhere else { return false }
            found = [:]
            for speaker in speakers { if let heard = await hearing(listener, of: speaker, in: whereabouts) { found[speaker.name] = heard } }
            return wanted ? found.count == speakers.count : found.isEmpty
        }
        guard whereabouts != .nowhere else { throw DemoFailure("\(listenerName) is in no call or meeting") }
        if wanted {
            guard held else {
                let missing = speakerNames.filter { found[$0] == nil }
                throw DemoFailure("\(listenerName) does not hear \(missing.joined(separator: ", ")) (voice analysed on what it decoded)")
            }
            return Outcome(speakerNames.map { "\(listenerName) hears \($0)'s voice: \(found[$0] ?? "")" }.joined(separator: "\n"))
        }
        guard held else { throw DemoFailure("\(listenerName) still hears \(found.keys.sorted().joined(separator: ", "))") }
        return Outcome("\(listenerName) is in a \(whereabouts) and hears none of \(speakerNames.joined(separator: ", "))")
    }

    /// A device's id in the meeting: its number, or the guest id the server gave it.
    func participantID(of device: DemoDevice) -> String? { device.number ?? meetingIDs[device.name] }

    // MARK: - 1:1 calls

    /// The viewer's once-a-second `seeing` report names the other (read from the tag each
    /// picture carries) at 10 fps or more: pictures are decoded and keep coming. In a 1:1 call,
    /// a group call or a meeting alike.
    private func sees(_ viewerName: String, _ shownName: String) async throws -> Outcome {
        let viewer = try device(viewerName), shown = try device(shownName)
        var last: SeeingReport?
        let held = await waitUntil {
            guard let names = self.seeingNames(of: shown) else { return false }
            last = self.lastSeeing(viewer, of: names)
            return last.map { $0.framesPerSecond >= 10 } ?? false
        }
        guard held, let report = last else {
            throw DemoFailure("\(viewerName) does not see \(shownName): \(last.map(\.description) ?? "no picture")")
        }
        return Outcome(
            "\(viewerName) sees \(shownName): \(report.framesPerSecond) fps \(report.width)x\(report.height), "
                + "\(report.freezes) freezes, \(report.kilobitsPerSecond) kbit/s")
    }

    /// Whether a `seeing` line's name is `device`: "Name (number)" in a 1:1 call, the number in a
    /// group call, the display name in a meeting.
    private func seeingNames(of device: DemoDevice) -> ((String) -> Bool)? {
        let display = device.display
        guard let number = device.number else { return { $0 == display } }
        return { $0 == number || $0 == display || $0.hasSuffix("(\(number))") }
    }

    /// The viewer's latest report of the one `names` picks out, in whatever it is in now.
    private func lastSeeing(_ viewer: DemoDevice, of names: (String) -> Bool) -> SeeingReport? {
        func of(_ reports: [SeeingReport]) -> SeeingReport? { reports.last { $0.person.map(names) ?? false } }
        switch viewer.activity {
        case let .call(since)?:
            return viewer.callLog?.last(since: since) { if case let .seeing(report) = $0 { of([report]) } else { nil } }
        case let .group(since)?:
            return viewer.groupLog?.last(since: since) { if case let .seeing(reports) = $0 { of(reports) } else { nil } }
        case let .meeting(since)?:
            return viewer.meetingLog.last(since: since) { if case let .seeing(reports) = $0 { of(reports) } else { nil } }
        case nil:
            return nil
        }
    }

    private func expectPath(_ name: String, _ path: DemoPath) async throws -> Outcome {
        let (engine, _) = try calls(name)
        let state = await engine.state
        guard case let .connected(actual) = state, actual.kind == path.rawValue else {
            throw DemoFailure("\(name)'s call is \(state), not connected \(path.rawValue)")
        }
        return Outcome(
            path == .p2p ? "media flows straight between the devices (a STUN check succeeded)" : "media goes through the server's relay")
    }

    /// Both screens show the same words, derived from the call secret: a person reading them
    /// to the other would notice a man in the middle. Each side shows them once its own keys are
    /// confirmed, so the callee's may reach its log a moment after the caller is connected: the
    /// check waits for both (up to the check timeout).
    private func expectSAS(_ a: String, _ b: String) async throws -> Outcome {
        func sas(_ name: String) throws -> String? {
            let device = try device(name)
            guard case let .call(since) = device.activity else { return nil }
            return device.callLog?.last(since: since, { if case let .sas(words) = $0 { words } else { nil } })
        }
        _ = try await waitUntil { try sas(a) != nil && sas(b) != nil }
        let words = try [a, b].map { name -> String in
            guard let words = try sas(name) else { throw DemoFailure("\(name) shows no SAS for its call") }
            return words
        }
        guard words[0] == words[1] else { throw DemoFailure("SAS differ: \(a) shows '\(words[0])', \(b) shows '\(words[1])'") }
        return Outcome("both show \"\(words[0])\"")
    }

    // MARK: - What the server carried

    /// The relay forwarded SRTP: none of its payloads is a frame either caller's encoder made,
    /// and played as Opus no stream is either caller's voice. Waits for 50 relayed packets.
    private func relayCarriedCiphertext() async throws -> Outcome {
        let wire = try requireWorld().wire
        var packets: [RTPPacket] = []
        _ = await waitUntil {
            packets = wire.relayed(since: relayMark).compactMap { try? RTPPacket(parsing: $0) }
            return packets.count >= 50
        }
        guard packets.count >= 50 else {
            throw DemoFailure("the relay carried \(packets.count) RTP packets since the last relayed call: it did not carry the call")
        }
        let plaintext = try relayCallers.reduce(into: Set<[UInt8]>()) {
            $0.formUnion(try AudioEvidence.plaintextFrames(of: $1, count: min(packets.count + 250, 3000)))
        }
        let leaked = packets.filter { plaintext.contains($0.payload) }.count
        guard leaked == 0 else {
            throw DemoFailure("\(leaked) of \(packets.count) relayed payloads are plain Opus frames of a caller's voice")
        }
        for (ssrc, stream) in Dictionary(grouping: packets, by: \.ssrc) {
            let voices = AudioEvidence.voices(in: try AudioEvidence.play(stream.map(\.payload)), of: relayCallers)
            guard voices.isEmpty else {
                throw DemoFailure("played as Opus, the relayed SSRC \(ssrc) sounds like \(voices.joined(separator: ", "))")
            }
        }
        return Outcome(
            "\(packets.count) SRTP packets relayed, both ways; 0 carry an Opus frame of either caller; played as Opus they are neither caller's voice"
        )
    }

    /// The SFU, after opening each device's client-to-server SRTP, holds SFrame ciphertext:
    /// each sender's frames name only the sender-key epochs it handed to the others, none is a
    /// frame its encoder made, and played as Opus they are not its voice.
    private func sfuCarriedCiphertext() throws -> Outcome {
        let routed = try requireWorld().wire.routed { frame in groupCallIDs.contains { frame.room == .groupCall($0) } }
        let frames = routed.filter { !$0.isVideo }
        guard frames.count >= 50 else { throw DemoFailure("the SFU routed \(frames.count) group-call frames: no group call was carried") }
        let announced = announcedEpochs()
        var described: [String] = []
        for (sender, sent) in Dictionary(grouping: frames, by: \.participant).sorted(by: { $0.key < $1.key }) {
            let name = devices.values.first { $0.number == sender }?.name ?? sender
            let keyIDs = Set(sent.map { (try? SFrameHeader.decode($0.payload).header.keyID) ?? .max })
            // KID = the sender's tag (high bits) and its epoch (low 16 bits).
            let tags = Set(keyIDs.map { $0 >> 16 }), epochs = Set(keyIDs.map { UInt16(truncatingIfNeeded: $0) })
            guard tags.count == 1, epochs.isSubset(of: announced[sender] ?? []) else {
                throw DemoFailure(
                    "\(name)'s frames at the SFU carry key ids \(keyIDs.sorted()) — not only the sender keys it announced (epochs \(announced[sender]?.sorted() ?? []))"
                )
            }
            let plaintext = try AudioEvidence.plaintextFrames(of: sender, count: min(sent.count + 250, 3000))
            let leaked = sent.filter { plaintext.contains($0.payload) }.count
            guard leaked == 0 else { throw DemoFailure("\(leaked) of \(name)'s frames at the SFU are plain Opus") }
            guard AudioEvidence.voices(in: try AudioEvidence.play(sent.map(\.payload)), of: [sender]).isEmpty else {
                throw DemoFailure("played as Opus, \(name)'s frames at the SFU are \(name)'s voice")
            }
            described.append("\(name) \(sent.count) under epochs \(epochs.sorted().map(String.init).joined(separator: ","))")
        }
        return Outcome(
            "frames the SFU routed: \(described.joined(separator: "; "))\nall SFrame under the senders' announced keys; 0 are plain Opus; played as Opus none is its sender's voice — the SFU routes what it cannot read"
                + (try videoCiphertext(routed.filter(\.isVideo), announced: announced))
        )
    }

    /// The video the SFU routed: each frame's first packet opens on an SFrame header under its
    /// sender's announced keys, and no packet holds a VP8 frame header (a keyframe's start
    /// code) — the pictures pass through as ciphertext. Empty when no camera was on.
    private func videoCiphertext(_ packets: [WireLog.Routed], announced: [String: Set<UInt16>]) throws -> String {
        guard !packets.isEmpty else { return "" }
        let startCode: [UInt8] = [0x9D, 0x01, 0x2A]
        var frames = 0
        for packet in packets {
            guard let framing = try? SFramePayload.framing(of: packet.payload) else {
                throw DemoFailure("a video packet at the SFU has no SFrame payload descriptor")
            }
            let body = packet.payload[framing.descriptorLength...]
            guard !body.indices.contains(where: { body[$0...].starts(with: startCode) }) else {
                throw DemoFailure("a video packet at the SFU holds a VP8 frame header")
            }
            guard framing.startsFrame else { continue }
            frames += 1
            let keyID = (try? SFrameHeader.decode(Array(body)).header.keyID) ?? .max
            guard announced[packet.participant]?.contains(UInt16(truncatingIfNeeded: keyID)) == true else {
                throw DemoFailure("a video frame at the SFU is not under a sender key its sender announced")
            }
        }
        return
            "\nvideo: \(packets.count) packets of \(frames) frames, each frame SFrame under its sender's key, 0 with a VP8 frame header — the SFU saw only SFrame ciphertext"
    }

    /// Every sender-key epoch each member was seen to hand out (some device received it).
    private func announcedEpochs() -> [String: Set<UInt16>] {
        var epochs: [String: Set<UInt16>] = [:]
        for log in devices.values.compactMap(\.groupLog) {
            for (from, epoch) in log.all({ if case let .keyReceived(from, epoch) = $0 { (from, epoch) } else { nil } }) {
                epochs[from, default: []].insert(epoch)
            }
        }
        return epochs
    }

    /// A meeting is cloud-encrypted: the server opens its media. Played as Opus, what it
    /// routed is each participant's voice — the honest other half of the ciphertext checks.
    private func serverHears(_ names: [String]) async throws -> Outcome {
        guard let meeting else { throw DemoFailure("there is no meeting") }
        let wire = try requireWorld().wire
        guard let room = wire.firstRoom(where: { $0.meetingCode == meeting.link.code }) else {
            throw DemoFailure("the server routed no frame of the meeting")
        }
        var lines: [String] = []
        for name in names {
            guard let id = participantID(of: try device(name)) else { throw DemoFailure("\(name) was never in the meeting") }
            var level = -Double.infinity
            let heard = try await waitUntil {
                let samples = try AudioEvidence.play(wire.lastRouted(150, room: room, participant: id))
                level = VoiceAnalyser(numbers: [id]).analyse(samples).level
                return !AudioEvidence.voices(in: samples, of: [id]).isEmpty
            }
            guard heard else { throw DemoFailure("the server could not play \(name)'s voice from the frames it routed") }
            lines.append("the server plays \(name)'s voice from what it routed (\(HearingReport.oneDecimal(level)) dBFS)")
        }
        return Outcome(
            lines.joined(separator: "\n") + "\ncloud-encrypted, as the meeting screen says: only the legs to the server are encrypted")
    }

    // MARK: - Group calls

    /// Each device made a sender key for the last membership change (the rekey's cause
    /// matches it) under a new epoch; timed from the change to the last one.
    private func rekeyed(_ names: [String]) async throws -> Outcome {
        guard let change = membershipChange else { throw DemoFailure("no member left, or was added or removed, before this check") }
        var newEpochs: [String: (epoch: UInt16, at: ContinuousClock.Instant)] = [:]
        let held = await waitUntil {
            for name in names where newEpochs[name] == nil {
                guard let log = devices[name]?.groupLog else { continue }
                let found = log.first(since: change.marks[name] ?? 0) { event -> UInt16? in
                    guard case let .rekey(cause, epoch) = event, cause == change.cause, epoch != change.epochs[name] else { return nil }
                    return epoch
                }
                if let found { newEpochs[name] = (found.value, found.at) }
            }
            return newEpochs.count == names.count
        }
        guard held else {
            throw DemoFailure(
                "no new sender key (\(change.cause.rawValue)) from \(names.filter { newEpochs[$0] == nil }.joined(separator: ", ")) after the \(change.what)"
            )
        }
        let slowest = newEpochs.values.map(\.at).max() ?? change.at
        let milliseconds = Self.milliseconds(change.at.duration(to: slowest))
        let epochs = names.map { "\($0) \(change.epochs[$0].map(String.init) ?? "-")→\(newEpochs[$0]!.epoch)" }.joined(separator: ", ")
        return Outcome(
            "new sender keys: \(epochs); the last one \(milliseconds) ms after the \(change.what)",
            timings: ["rekey_\(change.what)_ms": milliseconds])
    }

    private func inCall(_ names: [String]) async throws -> Outcome {
        let numbers = Set(try names.map { try number(of: try device($0)) })
        var seen: [String: Set<String>] = [:]
        let held = await waitUntil {
            for name in names { seen[name] = Set(await devices[name]?.groups?.snapshot()?.participants ?? []) }
            return seen.values.allSatisfy { $0 == numbers }
        }
        guard held else {
            let wrong = names.first { seen[$0] != numbers } ?? names[0]
            throw DemoFailure(
                "\(wrong) sees \(seen[wrong]?.sorted().joined(separator: ", ") ?? "no call"), not \(numbers.sorted().joined(separator: ", "))"
            )
        }
        return Outcome("each of \(names.joined(separator: ", ")) sees exactly these \(names.count) in the call")
    }

    // MARK: - Keys and recordings

    /// Each device's engine reported the keys of its last call (or meeting) released after
    /// it began; the key types zero themselves on release (`SecureBytes`).
    private func wiped(_ names: [String]) async throws -> Outcome {
        var lines: [String] = []
        for name in names {
            let device = try device(name)
            let held = await waitUntil {
                switch device.activity {
                case let .call(since): device.callLog?.first(since: since) { $0 == .keysWiped ? true : nil } != nil
                case let .group(since): device.groupLog?.first(since: since) { $0 == .keysWiped ? true : nil } != nil
                case let .meeting(since): device.meetingLog.first(since: since) { $0 == .keysWiped ? true : nil } != nil
                case nil: false
                }
            }
            guard held else { throw DemoFailure("\(name) has not released the keys of its last call") }
            let what =
                switch device.activity {
                case .call: "call secret, SRTP keys and ephemeral keys released and zeroed"
                case .group: "every sender key of the group call released and zeroed, its own and the members'"
                default: "the meeting leg's DTLS-SRTP keys released and zeroed"
                }
            lines.append("\(name): \(what)")
        }
        return Outcome(lines.joined(separator: "\n"))
    }

    private func recordingHas(_ names: [String]) throws -> Outcome {
        guard let samples = exported else { throw DemoFailure("nothing was exported yet: add 'export' before this line") }
        var ids: [String: String] = [:]
        for name in names {
            guard let id = participantID(of: try device(name)) else { throw DemoFailure("\(name) was never in the meeting") }
            ids[name] = id
        }
        let found = AudioEvidence.windows(in: samples, of: Array(ids.values))
        let missing = names.filter { found[ids[$0]!] == nil }
        guard missing.isEmpty else { throw DemoFailure("the recording does not have \(missing.joined(separator: ", "))'s voice") }
        let shared = Dictionary(grouping: names) { VoiceSignature(number: ids[$0]!).slot }.values.filter { $0.count > 1 }
        let caveat = shared.map { "\($0.joined(separator: " and ")) share a pitch: this check cannot tell them apart" }
        return Outcome((names.map { "\($0) heard in \(found[ids[$0]!]!) one-second windows" } + caveat).joined(separator: "\n"))
    }
}
