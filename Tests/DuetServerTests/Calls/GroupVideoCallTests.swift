import DuetClient
import DuetServer
import DuetWire
import Foundation
import Synchronization
import Testing

/// Video in a group call through the real server (docs/video.md "Group calls"): every member
/// sees every other, by the pictures themselves, while what the SFU routes holds no VP8 in
/// the clear — each frame is SFrame ciphertext under its sender's key.
@Suite("Group video calls")
struct GroupVideoCallTests {
    @Test func threeMembersSeeEachOtherAndTheSFUSeesNoPicture() async throws {
        let routed = Mutex<[[UInt8]]>([])
        let witness = MediaWitness(relayed: { _ in }, routed: { _, _, packet in routed.withLock { $0.append(packet.payload) } })
        let server = try await TestServer.start(mediaWitness: witness)
        var options = GroupCallEngine.Options()
        options.video = try VideoSettings()
        var members: [GroupTestDevice] = []
        for index in 0..<3 {
            members.append(try await .make("+155561\(index)0", name: "Viewer\(index)", on: server, options: options))
        }
        let group = try await members[0].session.connection.createGroup(name: "Trio", members: members.dropFirst().map(\.number))
        let info = try await members[0].engine.start(group: group.id, callID: "trio-video")
        for member in members.dropFirst() { _ = try await member.engine.join(callID: info.callID) }

        for member in members {
            let others = members.map(\.number).filter { $0 != member.number }
            let sees = await eventually(timeout: .seconds(40)) {
                member.events.events.contains { event in
                    guard case let .seeing(reports) = event else { return false }
                    return others.allSatisfy { number in reports.contains { $0.person == number && $0.framesPerSecond >= 10 } }
                }
            }
            #expect(sees, "\(member.number) does not see \(others): \(member.events.log)")
        }
        // A VP8 payload as RFC 7741 carries it would start a keyframe with 9d 01 2a after its
        // 4-byte descriptor and 3-byte frame tag; none of what the SFU routed does.
        let payloads = routed.withLock { $0 }
        #expect(payloads.count > 200)
        let plain = payloads.filter { $0.count > 10 && Array($0[7...9]) == [0x9D, 0x01, 0x2A] }
        #expect(plain.count == 0, "VP8 keyframes routed in the clear")
        for member in members { await member.engine.leave() }
        for member in members { await member.close() }
        try await server.stop()
    }
}
