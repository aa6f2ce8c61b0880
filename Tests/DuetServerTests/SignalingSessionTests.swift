import DuetCrypto
import DuetWire
import Testing

@testable import DuetServer

/// The server's per-connection protocol state alone, and how it routes requests to the
/// services that answer them (no server, no socket).
@Suite("Signaling session state machine")
struct SignalingSessionTests {
    let nonce = [UInt8](repeating: 3, count: AuthenticationTranscript.nonceByteCount)
    let auth = Signaling.Authenticate(identityKey: Base64Bytes([1, 2, 3]), signature: Base64Bytes([4, 5, 6]))

    @Test func onlyTheAnswerToTheChallengeIsAdmittedBeforeLogin() {
        let session = SignalingSession(nonce: nonce)
        guard case let .authenticate(admitted, with) = session.admit(.authenticate(auth)) else {
            Issue.record("authenticate was not admitted")
            return
        }
        #expect(admitted == auth)
        #expect(with == nonce)
        guard case let .violation(error) = session.admit(.ping) else {
            Issue.record("a ping before login was admitted")
            return
        }
        #expect(error.code == .notAuthenticated)
    }

    @Test func afterLoginRequestsAreRoutedAndASecondAuthenticateIsAViolation() {
        var session = SignalingSession(nonce: nonce)
        let key = IdentityKeyPair.generate().publicKey
        session.didAuthenticate(as: key)
        guard case let .violation(error) = session.admit(.authenticate(auth)) else {
            Issue.record("a second authenticate was admitted")
            return
        }
        #expect(error.code == .unexpectedMessage)
        guard case let .request(.group(.list), routedKey) = session.admit(.listGroups) else {
            Issue.record("listGroups was not routed to the groups")
            return
        }
        #expect(routedKey == key)
        guard case let .request(.groupCall(.leave(left)), _) = session.admit(.leaveGroupCall(.init(callID: "c1"))) else {
            Issue.record("leaveGroupCall was not routed to the group calls")
            return
        }
        #expect(left.callID == "c1")
        guard case let .request(.meeting(.leave(meeting)), _) = session.admit(.leaveMeeting(.init(code: "abc-defg-hij"))) else {
            Issue.record("leaveMeeting was not routed to the meetings")
            return
        }
        #expect(meeting.code == "abc-defg-hij")
    }

    @Test func violationsCloseTheConnectionAtTheLimit() {
        var session = SignalingSession(nonce: nonce)
        let closes = (1...SignalingSession.maximumViolations).map { _ in session.recordViolation() }
        #expect(closes == Array(repeating: false, count: SignalingSession.maximumViolations - 1) + [true])
    }
}
