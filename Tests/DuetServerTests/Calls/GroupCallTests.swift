import DuetCrypto
import DuetMedia
import DuetServer
import Foundation
import Synchronization
import Testing

@testable import DuetClient

/// A device for group call tests: its own store and session, and a group call engine whose
/// events are recorded and which follows the session from the start (so it sees rings).
struct GroupTestDevice {
    let number: String
    let session: DeviceSession
    let engine: GroupCallEngine
    let events: GroupEventRecorder
    let home: URL

    static func make(
        _ number: String, name: String, on server: TestServer, options: GroupCallEngine.Options = .init()
    ) async throws -> GroupTestDevice {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-group-\(UUID().uuidString)")
        let store = try DeviceStore.open(ProfileLocation(name: name.lowercased(), home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        let session = try await DeviceSession.open(store: store, server: server.address)
        _ = try await session.register(number: number, name: name, invite: nil)
        let engine = try GroupCallEngine(session: session, options: options)
        await engine.follow()
        return GroupTestDevice(number: number, session: session, engine: engine, events: GroupEventRecorder(engine.events), home: home)
    }

    func close() async {
        await engine.close()
        await session.close()
        try? FileManager.default.removeItem(at: home)
    }
}

/// Records a group engine's events; waits are generous bounds, never timing assertions.
final class GroupEventRecorder: Sendable {
    private let recorded = Mutex<[GroupCallEngineEvent]>([])

    init(_ stream: AsyncStream<GroupCallEngineEvent>) {
        Task { [weak self] in for await event in stream { self?.recorded.withLock { $0.append(event) } } }
    }

    var events: [GroupCallEngineEvent] { recorded.withLock { $0 } }

    /// Events other than the (many) hearing reports, for failure messages.
    var log: String { events.filter { if case .hearing = $0 { false } else { true } }.map { "\($0)" }.joined(separator: "\n") }
}

/// Waits until `condition` holds, up to `timeout`.
func eventually(timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await condition()
}

@Suite("Group calls end to end", .serialized)
struct GroupCallTests {
    /// True when `device` hears every one of `others` by voice, each under at least `epoch`.
    static func hears(_ device: GroupTestDevice, _ others: [GroupTestDevice], epochAtLeast epoch: UInt16 = 0) async -> Bool {
        guard let snapshot = await device.engine.snapshot() else { return false }
        return others.allSatisfy { other in
            guard let hearing = snapshot.hearing[other.number] else { return false }
            return hearing.heard && (hearing.epoch ?? 0) >= epoch
        }
    }

    /// Like `hears`, with at least a second of frames (50) from each since `since` was read.
    static func hears(
        _ device: GroupTestDevice, _ others: [GroupTestDevice], epochAtLeast epoch: UInt16,
        receivedSince since: [String: Int]
    ) async -> Bool {
        guard await hears(device, others, epochAtLeast: epoch), let snapshot = await device.engine.snapshot() else { return false }
        return others.allSatisfy { (snapshot.hearing[$0.number]?.received ?? 0) >= (since[$0.number] ?? 0) + 50 }
    }

    /// Frames each device has received from each other, by device then member.
    static func received(_ devices: [GroupTestDevice]) async -> [String: [String: Int]] {
        var counts: [String: [String: Int]] = [:]
        for device in devices {
            counts[device.number] = await device.engine.snapshot()?.hearing.mapValues(\.received) ?? [:]
        }
        return counts
    }

    /// A fresh ring holding `member`'s keys from `keys`, to try frames against.
    static func ring(holding keys: [String: [SenderKeyAnnouncement]], from member: String) throws -> SenderKeyRing {
        let ring = try SenderKeyRing(overlap: .seconds(3600))
        for announcement in keys[member] ?? [] { try ring.install(announcement, from: member) }
        return ring
    }

    static func makeDevices(_ count: Int, base: Int, on server: TestServer) async throws -> [GroupTestDevice] {
        var devices: [GroupTestDevice] = []
        for index in 0..<count {
            devices.append(try await .make("+1555\(base + index)", name: "Member\(index + 1)", on: server))
        }
        return devices
    }

    @Test
    func fourMembersHearEachOtherAndRekeyWhenOneLeaves() async throws {
        let server = try await TestServer.start()
        let members = try await Self.makeDevices(4, base: 4100, on: server)
        for member in members { await member.engine.setCapture(true) }
        let group = try await members[0].session.connection.createGroup(name: "Quartet", members: members.dropFirst().map(\.number))
        let info = try await members[0].engine.start(group: group.id, callID: "quartet-1")
        for member in members.dropFirst() { _ = try await member.engine.join(callID: info.callID) }

        for member in members {
            let others = members.filter { $0.number != member.number }
            let heard = await eventually(timeout: .seconds(60)) { await Self.hears(member, others) }
            let state = await member.engine.snapshot()
            #expect(heard, "\(member.number) does not hear everyone: \(String(describing: state?.hearing))\n\(member.events.log)")
        }

        // The fourth leaves: the other three rotate (cause member-left) and still hear each other under new keys.
        let leaver = members[3]
        let leaverHeld = await leaver.engine.retainedKeys()  // copies, taken before leaving wipes the originals
        await leaver.engine.leave()
        let remaining = Array(members.prefix(3))
        for member in remaining {
            let rekeyed = await eventually { member.events.events.contains(.rekey(.memberLeft, epoch: 1)) }
            #expect(rekeyed, "\(member.number) did not rekey after the leave:\n\(member.events.log)")
            #expect(await member.engine.snapshot()?.participants.contains(leaver.number) == false)
        }
        // A second of each voice under epoch 1 (the listener's window), heard as that voice.
        let base = await Self.received(remaining)
        for member in remaining {
            let others = remaining.filter { $0.number != member.number }
            let heard = await eventually(timeout: .seconds(60)) {
                await Self.hears(member, others, epochAtLeast: 1, receivedSince: base[member.number] ?? [:])
            }
            let state = await member.engine.snapshot()
            #expect(
                heard,
                "\(member.number) does not hear the others under their new keys: \(String(describing: state?.hearing))\n\(member.events.log)"
            )
        }
        #expect(leaver.events.events.contains(.keysWiped))
        #expect(leaver.events.events.contains(.ended))
        #expect(await leaver.engine.snapshot() == nil)

        // What the leaver was given opens nothing sent after the rekey; what a remaining member
        // was given (the control) opens the same frames.
        @Sendable func epochOneFrames() async -> [[UInt8]] {
            let captured = await members[0].engine.capturedPayloads()
            return (captured[members[1].number] ?? []).filter { (try? SFrameHeader.decode($0).header.keyID & 0xFFFF) == 1 }
        }
        #expect(await eventually { await epochOneFrames().count >= 50 })
        let fromSecond = await epochOneFrames()
        let leaverKeys = try Self.ring(holding: leaverHeld, from: members[1].number)
        let controlKeys = try Self.ring(holding: await members[0].engine.retainedKeys(), from: members[1].number)
        #expect(fromSecond.allSatisfy { (try? leaverKeys.decrypt($0, from: members[1].number)) == nil })
        #expect(fromSecond.allSatisfy { (try? controlKeys.decrypt($0, from: members[1].number)) != nil })

        for member in members { await member.close() }
        try await server.stop()
    }
}
