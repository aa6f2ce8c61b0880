import DuetClient
import Testing

@testable import DuetTUI

/// One conversation at a time, on screen as on the device: the kind accessors read and
/// replace the one `conversation`, and "in a call" and the call pane derive from it.
@Suite("ConversationView")
struct ConversationViewTests {
    static let empty = TUIState(
        profile: "alice", server: ServerStatus(address: "127.0.0.1:4433", state: .connected, embedded: false),
        ownFingerprintShort: "1A2B 3C4D")
    static let call = CallView(peerNumber: "+15550002", peerName: "Bob", peerTrust: .unverified, outgoing: true, state: .outgoing)

    @Test func startingAnotherKindReplacesTheLastOne() {
        var state = Self.empty
        state.call = Self.call
        #expect(state.inCall)
        #expect(state.activeCallPane == .call)
        state.call?.state = .ended(.hungUp)
        #expect(!state.inCall)
        #expect(state.activeCallPane == nil)
        // The ended call stays until the next conversation begins, which replaces it.
        #expect(state.call != nil)
        state.groupCall = GroupCallView(groupID: "g1", groupName: "Team")
        #expect(state.call == nil)
        #expect(state.activeCallPane == .groupCall)
        // Changing a view of another kind does nothing.
        state.meeting?.phase = .connected
        #expect(state.meeting == nil)
        state.call = nil
        #expect(state.groupCall != nil)
        state.groupCall = nil
        #expect(state.conversation == .none)
    }

    @Test func aMeetingIsInACallUntilItEnds() {
        var state = Self.empty
        state.meeting = MeetingView(isHost: true)
        #expect(state.inCall)
        #expect(state.activeCallPane == .meeting)
        state.meeting?.phase = .ended(reason: "left the meeting")
        #expect(!state.inCall)
        #expect(state.conversation.pane == .meeting)
    }
}
