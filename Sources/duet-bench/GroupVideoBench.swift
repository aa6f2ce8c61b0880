import DuetClient
import Foundation

/// Group video through a real server on loopback (docs/video.md "Group calls"), members with
/// their cameras on: `group_video_settle_ms`, from the last of three joining to every member
/// having shown a picture of every other; `keyframe_via_sfu_ms`, from a fourth joining the
/// running call to its first picture of each member (the SFU asks the senders for keyframes on
/// its behalf). Each the median of a few rounds; bound below by a frame interval (67 ms at 15
/// fps) and the DTLS handshake of the newcomer's leg.
enum GroupVideoBench {
    static let rounds = 3

    static func run(report: BenchReport) async {
        do {
            let server = try await BenchServer.start("group-video")
            var options = GroupCallEngine.Options()
            options.video = try VideoSettings()
            var members: [RekeyBench.Member] = []
            for index in 0..<4 {
                members.append(try await RekeyBench.Member("+1555720\(index)", home: server.home, server: server.address, options: options))
            }
            let group = try await members[0].session.connection.createGroup(name: "Screens", members: members.dropFirst().map(\.number))
            var settles: [Double] = [], keyframes: [Double] = []
            for _ in 0..<rounds {
                let call = try await members[0].engine.start(group: group.id)
                for member in members[1..<3] { _ = try await member.engine.join(callID: call.callID) }
                let joined = ContinuousClock.now
                try await waitUntil { await sees(Array(members.prefix(3))) }
                settles.append((ContinuousClock.now - joined).inSeconds * 1000)
                // A newcomer to the running call.
                try await waitUntil { await members[3].engine.invitations.contains { $0.callID == call.callID } }
                let entered = ContinuousClock.now
                _ = try await members[3].engine.join(callID: call.callID)
                try await waitUntil { await sees(members, viewer: members[3]) }
                keyframes.append((ContinuousClock.now - entered).inSeconds * 1000)
                for member in members { await member.engine.leave() }
                try await Task.sleep(for: .milliseconds(300))
            }
            report.figure("group_video_settle_ms", Timing.median(settles), unit: "ms")
            report.figure("keyframe_via_sfu_ms", Timing.median(keyframes), unit: "ms")
            for member in members { await member.close() }
            await server.stop()
        } catch {
            print("group_video_error 1 error  # \(error)")
        }
    }

    /// Whether each of `members` (or only `viewer`) has shown a picture of every other.
    private static func sees(_ members: [RekeyBench.Member], viewer: RekeyBench.Member? = nil) async -> Bool {
        for member in viewer.map({ [$0] }) ?? members {
            let shown = await member.engine.snapshot()?.picturesShown ?? [:]
            guard members.allSatisfy({ $0.number == member.number || (shown[$0.number] ?? 0) > 0 }) else { return false }
        }
        return true
    }

    private static func waitUntil(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw BenchTimeout() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct BenchTimeout: Error {}
}
