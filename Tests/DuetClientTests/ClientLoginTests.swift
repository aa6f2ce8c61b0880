import DuetCrypto
import DuetWire
import Testing

@testable import DuetClient

/// The client's login state machine alone: no socket, no server (its driver is
/// `SignalingChannel`; the whole login against a real server is in DuetServerTests).
@Suite("Client login state machine")
struct ClientLoginTests {
    let nonce = [UInt8](repeating: 7, count: AuthenticationTranscript.nonceByteCount)
    let welcome = Signaling.Authenticated(number: "+15550001", media: "127.0.0.1:3478")

    private func challenge(_ bytes: [UInt8]) -> ServerFrame {
        ServerFrame(id: nil, message: .challenge(.init(nonce: Base64Bytes(bytes))))
    }

    private func presence(_ number: String) -> ServerFrame {
        ServerFrame(id: nil, message: .presence(.init(number: number, online: true)))
    }

    @Test func challengeThenAuthenticatedLogsIn() {
        var login = ClientLogin()
        #expect(login.received(challenge(nonce)) == .prove(nonce: nonce))
        #expect(login.phase == .proving(nonce: nonce, early: []))
        #expect(!login.isLoggedIn)
        #expect(login.received(ServerFrame(id: 0, message: .authenticated(welcome))) == .loggedIn(welcome, early: []))
        #expect(login.phase == .authenticated(welcome))
        #expect(login.isLoggedIn)
        // From then on everything is delivered, errors included (they answer requests).
        let reply = ServerFrame(id: 4, message: .error(.init(code: .unknownNumber, message: "no such number")))
        #expect(login.received(reply) == .deliver(reply))
        #expect(login.received(presence("+15550002")) == .deliver(presence("+15550002")))
    }

    @Test func eventsThatOvertakeTheReplyAreDeliveredAfterItInOrder() {
        var login = ClientLogin()
        _ = login.received(challenge(nonce))
        #expect(login.received(presence("+15550002")) == ClientLogin.Action.none)
        #expect(login.received(presence("+15550003")) == ClientLogin.Action.none)
        #expect(
            login.received(ServerFrame(id: 0, message: .authenticated(welcome)))
                == .loggedIn(welcome, early: [presence("+15550002"), presence("+15550003")]))
    }

    @Test func tooManyEarlyEventsFailTheLogin() {
        var login = ClientLogin()
        _ = login.received(challenge(nonce))
        for _ in 0..<ClientLogin.maximumEarlyEvents { _ = login.received(presence("+15550002")) }
        #expect(login.received(presence("+15550002")) == .fail(.invalidResponse("\"presence\" during login")))
    }

    @Test(arguments: [
        ServerFrame(id: 0, message: .authenticated(.init(number: nil, media: nil))),
        ServerFrame(id: nil, message: .presence(.init(number: "+15550002", online: true))),
        ServerFrame(id: 3, message: .pong)
    ])
    func anythingButAChallengeFirstFailsTheLogin(_ frame: ServerFrame) {
        var login = ClientLogin()
        #expect(login.received(frame) == .fail(.invalidResponse("\"\(frame.message.type)\" during login")))
        #expect(login.phase == .failed(.invalidResponse("\"\(frame.message.type)\" during login")))
        // A failed login stays failed: nothing later is acted on.
        #expect(login.received(challenge(nonce)) == ClientLogin.Action.none)
    }

    @Test func aReplyWithAnIDDuringTheLoginFailsIt() {
        var login = ClientLogin()
        _ = login.received(challenge(nonce))
        #expect(login.received(ServerFrame(id: 3, message: .pong)) == .fail(.invalidResponse("\"pong\" during login")))
    }

    @Test func aChallengeOfTheWrongSizeFailsTheLogin() {
        var login = ClientLogin()
        guard case .fail(.invalidResponse) = login.received(challenge(Array(nonce.prefix(16)))) else {
            Issue.record("a 16-byte challenge was answered")
            return
        }
    }

    @Test func aSecondChallengeFailsTheLogin() {
        var login = ClientLogin()
        _ = login.received(challenge(nonce))
        #expect(login.received(challenge(nonce)) == .fail(.invalidResponse("\"challenge\" during login")))
    }

    @Test func theServersRefusalFailsTheLoginAtEitherStep() {
        let refusal = ServerFrame(id: 0, message: .error(.init(code: .badSignature, message: "the signature does not verify")))
        var beforeChallenge = ClientLogin()
        #expect(beforeChallenge.received(refusal) == .fail(.authenticationRefused("bad_signature: the signature does not verify")))
        var whileProving = ClientLogin()
        _ = whileProving.received(challenge(nonce))
        #expect(whileProving.received(refusal) == .fail(.authenticationRefused("bad_signature: the signature does not verify")))
    }

    @Test func unreadableFramesFailTheLoginButOnlyTheirRequestAfterIt() {
        var login = ClientLogin()
        _ = login.received(challenge(nonce))
        #expect(login.unreadable(.invalidJSON) == .fail(.invalidResponse("frame is not a JSON object")))

        var loggedIn = ClientLogin()
        _ = loggedIn.received(challenge(nonce))
        _ = loggedIn.received(ServerFrame(id: 0, message: .authenticated(welcome)))
        #expect(loggedIn.unreadable(.unknownType("fromTheFuture", id: nil)) == ClientLogin.Action.none)
        guard case let .deliver(frame) = loggedIn.unreadable(.unknownType("fromTheFuture", id: 9)),
            case let .error(reply) = frame.message
        else {
            Issue.record("an unreadable reply did not fail its request")
            return
        }
        #expect(frame.id == 9)
        #expect(reply.code == .unknownType)
        #expect(loggedIn.isLoggedIn)
    }

    @Test func theAnswerSignsTheNonceBoundToTheCertificate() throws {
        let identity = IdentityKeyPair.generate()
        let certificate = try #require(CertificateFingerprint(digest: [UInt8](repeating: 0xAB, count: 32)))
        let request = ClientLogin.authenticateRequest(identity: identity, nonce: nonce, certificate: certificate)
        guard case let .authenticate(auth) = request.message else {
            Issue.record("not an authenticate request")
            return
        }
        let key = try IdentityPublicKey(rawRepresentation: auth.identityKey.bytes)
        #expect(key == identity.publicKey)
        #expect(key.isValidSignature(auth.signature.bytes, for: AuthenticationTranscript.message(nonce: nonce, certificate: certificate)))
        let otherServer = try #require(CertificateFingerprint(digest: [UInt8](repeating: 0xCD, count: 32)))
        #expect(!key.isValidSignature(auth.signature.bytes, for: AuthenticationTranscript.message(nonce: nonce, certificate: otherServer)))
    }
}
