import Testing

@testable import DuetTUI

/// The group call pane and boxes as text: what they promise about privacy, and that each
/// participant's and invited member's state reads in words.
@Suite("Group call screens")
struct GroupCallScreenTests {
    func text(_ state: TUIState, width: Int = 80, height: Int = 24) -> String {
        ScreenRenderer.render(state, width: width, height: height).joinedText
    }

    @Test func thePathSaysEndToEndAndNeverThatTheServerCanRead() {
        let screen = text(Fixtures.inGroupCall(), width: 120, height: 40)
        #expect(screen.contains("SFU — DTLS-SRTP to the server, SFrame end-to-end"))
        #expect(!screen.contains("can read") && !screen.contains("cloud-encrypted") && !screen.contains("can access"))
    }

    @Test func everyParticipantAndInvitedMemberReadsInWords() {
        let lines = GroupCallPaneView.lines(Fixtures.inGroupCall(), width: 60)
        func line(_ name: String) -> String? { lines.map(\.string).first { $0.hasPrefix(name) } }
        #expect(line("Bob")?.hasSuffix("hearing") == true)
        #expect(line("Dave")?.hasSuffix("not heard") == true)
        #expect(line("Carol")?.hasSuffix("invited, has key") == true)
        #expect(line("+15550005")?.hasSuffix("invited") == true)
        #expect(lines.map(\.string).contains { $0.contains("epoch 2 · 2 rekeys (last: a member was added)") })
    }

    @Test func anEndedCallShowsNoLiveMetersAndTheWipe() {
        let state = Fixtures.inGroupCall {
            $0.groupCall?.phase = .ended(reason: nil)
            $0.groupCall?.keysWiped = true
        }
        let pane = GroupCallPaneView.lines(state, width: 60).map(\.string)
        #expect(!pane.contains { $0.contains("hearing") || $0.contains("dBFS") || $0.contains("invited") })
        #expect(pane.contains { $0.contains("keys wiped ✓") })
        #expect(text(state).contains("Esc back"))
    }

    @Test func aShortPaneKeepsEveryParticipant() {
        let state = Fixtures.inGroupCall {
            $0.showLog = true
            $0.log = Fixtures.groupLog
        }
        let pane = GroupCallPaneView.lines(state, width: 49, height: 8).map(\.string)
        #expect(pane.contains { $0.hasPrefix("Bob") } && pane.contains { $0.hasPrefix("Dave") })
        #expect(pane.contains { $0.contains("SFU") })
    }

    @Test func keyHintsDuringAGroupCallOfferTheMemberKeys() {
        let hints = ScreenRenderer.render(Fixtures.inGroupCall(), width: 80, height: 24).text[23]
        #expect(hints.hasPrefix(" m mute/unmute  + add member  - remove member  h hang up"), "\(hints)")
    }
}
