import DuetCrypto
import DuetMedia
import DuetServer
import Foundation
import Testing

@testable import DuetClient

/// Group calls as membership changes under them: a late joiner, a member added and one removed
/// mid-call, a device that vanishes, outsiders — and what the SFU carries (docs/group-calls.md).
@Suite("Group call membership", .serialized)
struct GroupCallMembershipTests {
    typealias Calls = GroupCallTests

    /// The key epoch of an SFrame payload (KID = tag ‖ epoch).
    static func epoch(of payload: [UInt8]) -> UInt16? {
        (try? SFrameHeader.decode(payload)).map { UInt16(truncatingIfNeeded: $0.header.keyID) }
    }

    @Test func lateJoinerDecodesAtOnceAddedMemberReadsNothingEarlierRemovedMemberIsOut() async throws {
        let server = try await TestServer.start()
        let devices = try await Calls.makeDevices(4, base: 4200, on: server)
        let (owner, early, late, added) = (devices[0], devices[1], devices[2], devices[3])
        for device in devices { await device.engine.setCapture(true) }
        let group = try await owner.session.connection.createGroup(name: "Trio", members: [early.number, late.number])

        let info = try await owner.engine.start(group: group.id, callID: "trio-1")
        _ = try await early.engine.join(callID: info.callID)
        // Rung, not joined: the late member is given both keys while it waits ("invited, has key").
        let invited = await eventually {
            let given = (await owner.engine.snapshot()?.keyGiven[late.number], await early.engine.snapshot()?.keyGiven[late.number])
            return given.0 == 0 && given.1 == 0
        }
        #expect(invited, "the rung member was not given both keys before joining:\n\(owner.events.log)\n\(early.events.log)")
        #expect(late.events.events.contains { if case let .ringing(call) = $0 { call.callID == info.callID } else { false } })
        try await Task.sleep(for: .seconds(5))
        _ = try await late.engine.join(callID: info.callID)
        let lateHears = await eventually(timeout: .seconds(60)) { await Calls.hears(late, [owner, early]) }
        #expect(lateHears, "the late joiner does not hear both:\n\(late.events.log)")
        // At once: nothing it received needed a key it did not have, and nobody rotated for it.
        #expect(await late.engine.snapshot()?.undecryptable == 0)
        #expect(await owner.engine.snapshot()?.rekeys == [.joined])

        // An outsider can neither ring the group nor join its call.
        await #expect(throws: (any Error).self) { try await added.engine.start(group: group.id, callID: "trio-outsider") }
        await #expect(throws: (any Error).self) { try await added.engine.join(callID: info.callID) }

        // Added mid-call: everyone rotates (member-added) and the newcomer, rung, gets the new keys only.
        let participants = [owner, early, late]
        let before = await Self.ciphertext(at: early, from: owner.number)
        _ = try await owner.session.connection.addGroupMember(group: group.id, number: added.number)
        for device in participants {
            let rekeyed = await eventually { device.events.events.contains(.rekey(.memberAdded, epoch: 1)) }
            #expect(rekeyed, "\(device.number) did not rekey for the added member:\n\(device.events.log)")
        }
        let rung = await eventually { await added.engine.invitations.map(\.callID) == [info.callID] }
        #expect(rung, "the added member was not rung:\n\(added.events.log)")
        _ = try await added.engine.join(callID: info.callID)
        let addedHears = await eventually(timeout: .seconds(60)) { await Calls.hears(added, participants, epochAtLeast: 1) }
        #expect(addedHears, "the added member does not hear everyone:\n\(added.events.log)")
        let addedKeys = try Calls.ring(holding: await added.engine.retainedKeys(), from: owner.number)
        let controlKeys = try Calls.ring(holding: await early.engine.retainedKeys(), from: owner.number)
        #expect(before.count >= 50)
        #expect(
            before.allSatisfy { (try? addedKeys.decrypt($0, from: owner.number)) == nil },
            "the added member opened a frame sent before it was added")
        #expect(before.allSatisfy { (try? controlKeys.decrypt($0, from: owner.number)) != nil })

        // Removed from the group mid-call: it is out (keys wiped), and the rest rotate again.
        _ = try await owner.session.connection.removeGroupMember(group: group.id, number: early.number)
        let out = await eventually { early.events.events.contains(.keysWiped) }
        #expect(out, "the removed member is still in the call:\n\(early.events.log)")
        #expect(early.events.events.contains { if case .removedFromGroup = $0 { true } else { false } })
        let rest = [owner, late, added]
        for device in rest {
            let rekeyed = await eventually { device.events.events.contains { if case .rekey(.memberLeft, _) = $0 { true } else { false } } }
            #expect(rekeyed, "\(device.number) did not rekey for the removal:\n\(device.events.log)")
        }
        let base = await Calls.received(rest)
        for device in rest {
            let others = rest.filter { $0.number != device.number }
            let heard = await eventually(timeout: .seconds(60)) { await Self.hearsCurrentKeys(device, others, since: base) }
            #expect(heard, "\(device.number) does not hear the rest under their new keys after the removal:\n\(device.events.log)")
        }

        for device in devices { await device.close() }
        try await server.stop()
    }

    @Test func vanishedDeviceIsDroppedAndEveryoneRekeys() async throws {
        let server = try await TestServer.start()
        let devices = try await Calls.makeDevices(3, base: 4300, on: server)
        let group = try await devices[0].session.connection.createGroup(name: "Vanish", members: devices.dropFirst().map(\.number))
        let info = try await devices[0].engine.start(group: group.id, callID: "vanish-1")
        for device in devices.dropFirst() { _ = try await device.engine.join(callID: info.callID) }
        for device in devices {
            let others = devices.filter { $0.number != device.number }
            #expect(await eventually(timeout: .seconds(60)) { await Calls.hears(device, others) }, "\(device.events.log)")
        }

        // The third device's connection drops without a goodbye.
        let vanished = devices[2]
        await vanished.session.close()
        for device in devices.prefix(2) {
            let dropped = await eventually {
                device.events.events.contains(.left(vanished.number)) && device.events.events.contains(.rekey(.memberLeft, epoch: 1))
            }
            #expect(dropped, "\(device.number) did not drop the vanished device and rekey:\n\(device.events.log)")
            #expect(await device.engine.snapshot()?.participants.contains(vanished.number) == false)
        }
        for device in devices { await device.close() }
        try await server.stop()
    }

    @Test func theSFUCarriesOnlySFrameCiphertext() async throws {
        let server = try await TestServer.start()
        let devices = try await Calls.makeDevices(2, base: 4400, on: server)
        let (alto, bass) = (devices[0], devices[1])
        await bass.engine.setCapture(true)
        let group = try await alto.session.connection.createGroup(name: "Pair", members: [bass.number])
        let info = try await alto.engine.start(group: group.id, callID: "pair-1")
        _ = try await bass.engine.join(callID: info.callID)
        #expect(await eventually(timeout: .seconds(60)) { await Calls.hears(bass, [alto]) }, "\(bass.events.log)")
        #expect(await eventually { await Self.ciphertext(at: bass, from: alto.number).count >= 50 })
        let ciphertext = await Self.ciphertext(at: bass, from: alto.number)
        let tag = try #require(await alto.engine.senderKeyRing?.tag)

        // Every payload the SFU forwarded is an SFrame frame under alto's key…
        #expect(ciphertext.count >= 50)
        #expect(ciphertext.allSatisfy { (try? SFrameHeader.decode($0).header.keyID >> 16) == UInt64(tag) })
        // …that, fed to an Opus decoder as it is, is not alto's voice; decrypted, it is.
        let asOpus = try Self.listen(to: ciphertext, as: alto.number)
        #expect(asOpus.speaker == nil, "ciphertext decoded as Opus sounded like alto: \(asOpus)")
        let keys = try Calls.ring(holding: await bass.engine.retainedKeys(), from: alto.number)
        let decrypted = try Self.listen(to: ciphertext.map { try keys.decrypt($0, from: alto.number).payload }, as: alto.number)
        #expect(decrypted.speaker == VoiceSignature(number: alto.number), "\(decrypted)")

        for device in devices { await device.close() }
        try await server.stop()
    }

    /// `device` hears each of `others` by voice, under the epoch that member sends with now,
    /// with a second of frames (50) since `since`.
    static func hearsCurrentKeys(_ device: GroupTestDevice, _ others: [GroupTestDevice], since: [String: [String: Int]]) async -> Bool {
        guard let snapshot = await device.engine.snapshot() else { return false }
        for other in others {
            guard let hearing = snapshot.hearing[other.number], hearing.heard,
                hearing.received >= (since[device.number]?[other.number] ?? 0) + 50,
                let sending = await other.engine.snapshot()?.epoch, hearing.epoch == sending
            else { return false }
        }
        return true
    }

    /// The SFrame payloads `device` has captured from `member` so far.
    static func ciphertext(at device: GroupTestDevice, from member: String) async -> [[UInt8]] {
        await device.engine.capturedPayloads()[member] ?? []
    }

    /// Decodes `frames` as Opus (frames the decoder refuses are concealed) and analyses them.
    static func listen(to frames: [[UInt8]], as number: String) throws -> VoiceAnalysis {
        let decoder = try OpusDecoder()
        var samples: [Int16] = []
        for frame in frames { samples += try (try? decoder.decode(frame)) ?? decoder.concealLoss() }
        return VoiceAnalyser(numbers: [number]).analyse(samples)
    }
}
