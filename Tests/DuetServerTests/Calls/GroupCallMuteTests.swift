import DuetServer
import Foundation
import Testing

@testable import DuetClient

/// Mute in a group call: the muted member keeps sending (sealed silence under its sender key),
/// so it stays in the call and nobody rekeys, but nobody hears its voice until it unmutes.
@Suite("Group call mute", .serialized)
struct GroupCallMuteTests {
    @Test func aMutedMemberIsSilentButStaysInTheCall() async throws {
        let server = try await TestServer.start()
        let (members, _) = try await GroupCallServerRestartTests.callOfHearingMembers(2, base: 4970, on: server)
        let (talker, listener) = (members[0], members[1])
        let epoch = await talker.engine.snapshot()?.epoch

        await talker.engine.setMuted(true)
        let silent = await eventually(timeout: .seconds(15)) {
            guard let hearing = await listener.engine.snapshot()?.hearing[talker.number] else { return false }
            return !hearing.heard && hearing.level < -60
        }
        let heard = await listener.engine.snapshot()?.hearing[talker.number]
        #expect(silent, "the muted member was still heard: \(String(describing: heard))")
        // Still sending, under the same key: frames keep arriving and decrypting.
        let before = await listener.engine.snapshot()?.hearing[talker.number]?.received ?? 0
        #expect(await eventually { (await listener.engine.snapshot()?.hearing[talker.number]?.received ?? 0) >= before + 50 })
        #expect(await talker.engine.snapshot()?.epoch == epoch, "muting must not rekey")

        await talker.engine.setMuted(false)
        #expect(await eventually(timeout: .seconds(15)) { await GroupCallTests.hears(listener, [talker]) })
        for member in members { await member.close() }
        try await server.stop()
    }
}
