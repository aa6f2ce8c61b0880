import DuetClient
import DuetServer
import DuetWire
import Foundation
import Logging
import Synchronization

/// How long a group call takes to get away from a key (docs/group-calls.md): from the owner
/// asking the server to remove a member to every remaining participant sending under its new
/// epoch — the removal's `groupChanged`, a fresh sender key sealed on each pairwise channel,
/// and the switch. Also the same for a member added. Five devices in one real call through
/// a real server on loopback; the signaling round trip measured in the same run is the yardstick.
enum RekeyBench {
    static let rounds = 5

    static func run(report: BenchReport) async {
        do {
            let server = try await BenchServer.start("rekey")
            let home = server.home

            var members: [Member] = []
            for index in 0..<5 { members.append(try await Member("+1555710\(index)", home: home, server: server.address)) }
            let (owner, guest) = (members[0], members[4])
            let stay = Array(members.prefix(4))
            let group = try await owner.session.connection.createGroup(name: "Bench", members: members.dropFirst().map(\.number))
            let call = try await owner.engine.start(group: group.id)
            for member in members.dropFirst() { _ = try await member.engine.join(callID: call.callID) }
            try await waitUntil { await allSending(members) }

            var removals: [Double] = [], additions: [Double] = [], pings: [Double] = []
            for round in 0..<(rounds + 1) {  // the first round warms up
                let removedAt = ContinuousClock.now
                _ = try await owner.session.connection.removeGroupMember(group: group.id, number: guest.number)
                let removed = try await waitForRekey(of: stay, cause: .memberLeft, after: removedAt)
                let addedAt = ContinuousClock.now
                _ = try await owner.session.connection.addGroupMember(group: group.id, number: guest.number)
                let added = try await waitForRekey(of: stay, cause: .memberAdded, after: addedAt)
                try await waitUntil { await guest.engine.invitations.contains { $0.callID == call.callID } }
                _ = try await guest.engine.join(callID: call.callID)
                try await waitUntil { await allSending(members) }
                let pingStarted = ContinuousClock.now
                try await owner.session.connection.ping()
                if round > 0 {
                    removals.append(removed.milliseconds(since: removedAt))
                    additions.append(added.milliseconds(since: addedAt))
                    pings.append((ContinuousClock.now).milliseconds(since: pingStarted))
                }
            }
            report.figure("rekey_ms", Timing.median(removals), unit: "ms")
            report.figure("rekey_add_ms", Timing.median(additions), unit: "ms")
            report.figure("rekey_vs_signaling_rtt", Timing.median(removals) / Timing.median(pings), unit: "ratio")
            for member in members { await member.close() }
            await server.stop()
        } catch {
            print("rekey_error 1 error  # \(error)")
        }
    }

    /// A device in the bench's call, with the times of its rekeys as its engine reports them.
    final class Member: Sendable {
        let number: String
        let session: DeviceSession
        let engine: GroupCallEngine
        let rekeys = RekeyTimes()
        private let recorder: Task<Void, Never>

        init(_ number: String, home: URL, server: HostPort, options: GroupCallEngine.Options = .init()) async throws {
            self.number = number
            let store = try DeviceStore.open(ProfileLocation(name: number.filter(\.isNumber), home: home), passphrase: nil, create: true)
            try store.initializeKeys()
            session = try await DeviceSession.open(store: store, server: server)
            _ = try await session.register(number: number, name: nil, invite: nil)
            engine = try GroupCallEngine(session: session, options: options)
            let events = engine.events, rekeys = rekeys
            recorder = Task {
                for await event in events {
                    if case let .rekey(cause, _) = event { rekeys.record(cause) }
                }
            }
            await engine.follow()
        }

        func close() async {
            await engine.close()
            recorder.cancel()
            await session.close()
        }
    }

    /// When a device's engine reported each rekey.
    final class RekeyTimes: Sendable {
        private let times = Mutex<[(cause: RekeyCause, at: ContinuousClock.Instant)]>([])

        func record(_ cause: RekeyCause) { times.withLock { $0.append((cause, .now)) } }

        func first(_ cause: RekeyCause, after start: ContinuousClock.Instant) -> ContinuousClock.Instant? {
            times.withLock { $0.first { $0.cause == cause && $0.at > start }?.at }
        }
    }

    /// The moment the last of `members` switched to a key made for `cause` after `start`.
    private static func waitForRekey(of members: [Member], cause: RekeyCause, after start: ContinuousClock.Instant) async throws
        -> ContinuousClock.Instant
    {
        var last: ContinuousClock.Instant?
        try await waitUntil {
            let times = members.map { $0.rekeys.first(cause, after: start) }
            guard times.allSatisfy({ $0 != nil }) else { return false }
            last = times.compactMap { $0 }.max()
            return true
        }
        return last!
    }

    /// Everyone in the call, media up, every other member heard under its current key.
    private static func allSending(_ members: [Member]) async -> Bool {
        for member in members {
            guard let snapshot = await member.engine.snapshot(), snapshot.mediaConnected, snapshot.epoch != nil,
                snapshot.participants.count == members.count
            else { return false }
        }
        return true
    }

    private static func waitUntil(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while await !condition() {
            guard ContinuousClock.now < deadline else { throw CallSetupBench.BenchFailure("the group call did not settle within 30 s") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

extension ContinuousClock.Instant {
    func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = self - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000
    }
}
