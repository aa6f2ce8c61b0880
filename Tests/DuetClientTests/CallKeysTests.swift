import DuetCrypto
import Testing
@testable import DuetClient

@Suite("Call keys")
struct CallKeysTests {
    let secret = SecureBytes(randomCount: 32)
    let callerNonce = (0..<32).map { _ in UInt8.random(in: 0...255) }
    let calleeNonce = (0..<32).map { _ in UInt8.random(in: 0...255) }

    func copy(_ s: SecureBytes) -> SecureBytes { s.withUnsafeBytes { SecureBytes(copying: Array($0)) } }

    @Test func bothSidesDeriveTheSameKeysAndSAS() {
        let a = CallKeys(callSecret: secret, callerNonce: callerNonce, calleeNonce: calleeNonce)
        let b = CallKeys(callSecret: copy(secret), callerNonce: callerNonce, calleeNonce: calleeNonce)
        #expect(a.sas == b.sas)
        #expect(a.callerToCallee.constantTimeEquals(b.callerToCallee))
        #expect(a.calleeToCaller.constantTimeEquals(b.calleeToCaller))
        #expect(!a.callerToCallee.constantTimeEquals(a.calleeToCaller))
        #expect(a.callerToCallee.count == 30)
    }

    @Test func aReplayedOfferWithAFreshCalleeNonceGivesFreshKeys() {
        let first = CallKeys(callSecret: secret, callerNonce: callerNonce, calleeNonce: calleeNonce)
        let replay = CallKeys(callSecret: secret, callerNonce: callerNonce, calleeNonce: calleeNonce.map { $0 ^ 1 })
        #expect(!first.callerToCallee.constantTimeEquals(replay.callerToCallee))
        #expect(first.sas != replay.sas)
    }

    @Test func confirmationsProveTheSameKeysAndCannotBeReflectedOrMoved() {
        let a = CallKeys(callSecret: secret, callerNonce: callerNonce, calleeNonce: calleeNonce)
        let b = CallKeys(callSecret: copy(secret), callerNonce: callerNonce, calleeNonce: calleeNonce)
        let mallory = CallKeys(callSecret: SecureBytes(randomCount: 32), callerNonce: callerNonce, calleeNonce: calleeNonce)
        let fromCallee = b.confirmation(fromCaller: false, callID: "c1")
        #expect(a.verifyConfirmation(fromCallee, fromCaller: false, callID: "c1"))
        #expect(!a.verifyConfirmation(fromCallee, fromCaller: true, callID: "c1"))   // reflected
        #expect(!a.verifyConfirmation(fromCallee, fromCaller: false, callID: "c2"))  // other call
        #expect(!a.verifyConfirmation(mallory.confirmation(fromCaller: false, callID: "c1"), fromCaller: false, callID: "c1"))
    }

    @Test func signalingBlobsOpenOnlyWithTheRightKeyAndContext() throws {
        let offerKey = CallKeys.signalingKey(callSecret: secret, forOffer: true)
        let sealed = offerKey.seal(Array("offer".utf8), associatedData: [1, 2, 3])
        #expect(try CallKeys.signalingKey(callSecret: copy(secret), forOffer: true).open(sealed, associatedData: [1, 2, 3]) == Array("offer".utf8))
        #expect(throws: SealingError.cannotOpen) { try offerKey.open(sealed, associatedData: [1, 2, 4]) }
        #expect(throws: SealingError.cannotOpen) { try CallKeys.signalingKey(callSecret: secret, forOffer: false).open(sealed, associatedData: [1, 2, 3]) }
        var tampered = sealed; tampered[30] ^= 0x80
        #expect(throws: SealingError.cannotOpen) { try offerKey.open(tampered, associatedData: [1, 2, 3]) }
        #expect(throws: SealingError.malformed) { try offerKey.open([1, 2, 3], associatedData: []) }
    }

    @Test func signalsSealedForOneRoleAndCallOpenOnlyAsThat() throws {
        let secret = SecureBytes(randomCount: 32)
        let caller = CallKeys(callSecret: secret, callerNonce: [UInt8](repeating: 1, count: 32), calleeNonce: [UInt8](repeating: 2, count: 32))
        let callee = CallKeys(callSecret: secret, callerNonce: [UInt8](repeating: 1, count: 32), calleeNonce: [UInt8](repeating: 2, count: 32))
        let sealed = caller.sealSignal([1, 2, 3], fromCaller: true, callID: "c1")
        #expect(try callee.openSignal(sealed, fromCaller: true, callID: "c1") == [1, 2, 3])
        #expect(throws: (any Error).self) { try callee.openSignal(sealed, fromCaller: false, callID: "c1") }  // reflected
        #expect(throws: (any Error).self) { try callee.openSignal(sealed, fromCaller: true, callID: "c2") }  // moved
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        #expect(throws: (any Error).self) { try callee.openSignal(tampered, fromCaller: true, callID: "c1") }
    }
}
