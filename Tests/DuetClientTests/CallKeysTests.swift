import DuetCrypto
import Testing

@testable import DuetClient

@Suite("Call keys")
struct CallKeysTests {
    let secret = SecureBytes(randomCount: 32)
    let ephemeral = SecureBytes(randomCount: 32)
    let callerNonce = (0..<32).map { _ in UInt8.random(in: 0...255) }
    let calleeNonce = (0..<32).map { _ in UInt8.random(in: 0...255) }

    func copy(_ s: SecureBytes) -> SecureBytes { s.withUnsafeBytes { SecureBytes(copying: Array($0)) } }

    @Test func bothSidesDeriveTheSameKeysAndSAS() {
        let a = CallKeys(callSecret: secret, ephemeralSecret: ephemeral, callerNonce: callerNonce, calleeNonce: calleeNonce)
        let b = CallKeys(callSecret: copy(secret), ephemeralSecret: copy(ephemeral), callerNonce: callerNonce, calleeNonce: calleeNonce)
        let reveal = SASCommitment.random().reveal
        #expect(a.sas(reveal: reveal) == b.sas(reveal: reveal))
        #expect(a.callerToCallee.constantTimeEquals(b.callerToCallee))
        #expect(a.calleeToCaller.constantTimeEquals(b.calleeToCaller))
        #expect(!a.callerToCallee.constantTimeEquals(a.calleeToCaller))
        #expect(a.callerToCallee.count == 30)
    }

    @Test func aReplayedOfferWithAFreshCalleeNonceGivesFreshKeys() {
        let first = CallKeys(callSecret: secret, ephemeralSecret: ephemeral, callerNonce: callerNonce, calleeNonce: calleeNonce)
        let replay = CallKeys(
            callSecret: secret, ephemeralSecret: ephemeral, callerNonce: callerNonce, calleeNonce: calleeNonce.map { $0 ^ 1 })
        #expect(!first.callerToCallee.constantTimeEquals(replay.callerToCallee))
        let reveal = SASCommitment.random().reveal
        #expect(first.sas(reveal: reveal) != replay.sas(reveal: reveal))
    }

    /// Mallory, the server, sits in the middle of a first call (Alice and Bob have not verified
    /// each other): a secret with each. Bob's words are fixed once he answered. She may pick the
    /// nonce of her answer to Alice freely, and try answers until Alice's words would match
    /// Bob's: with the words a function of what she knows, two words (2¹⁶ tries) fall to a
    /// loop. Alice's words also mix in a value Alice committed to in her offer and reveals only
    /// after the answer, so the match Mallory ground for her best guess of it is worth nothing.
    @Test func aManInTheMiddleCannotGrindTheSAS() {
        let withAlice = SecureBytes(randomCount: 32), withBob = SecureBytes(randomCount: 32)
        let mallorysReveal = SASCommitment.random().reveal
        let bobsWords = CallKeys(callSecret: withBob, ephemeralSecret: ephemeral, callerNonce: callerNonce, calleeNonce: calleeNonce).sas(
            reveal: mallorysReveal
        ).words
        let alicesNonce = callerNonce.map { $0 ^ 0x5A }
        let guess = [UInt8](repeating: 0, count: SASCommitment.revealCount)
        var ground: [UInt8]?
        for attempt in 0..<(1 << 20) where ground == nil {
            let nonce = withUnsafeBytes(of: UInt32(attempt).littleEndian) { Array($0) } + [UInt8](repeating: 0, count: 28)
            // What `CallKeys.sas(reveal:)` computes, without the keys the words do not need.
            let session = CallKeys.session(callSecret: withAlice, ephemeralSecret: ephemeral, callerNonce: alicesNonce, calleeNonce: nonce)
            let words = ShortAuthenticationString(callSecret: CallKeys.sasKey(session: session), reveal: guess).words
            if words.prefix(2) == bobsWords.prefix(2) { ground = nonce }
        }
        guard let ground else {
            Issue.record("the grind itself should find two matching words within 2^20 tries")
            return
        }
        // The grind works against words Mallory can compute…
        let alice = CallKeys(callSecret: withAlice, ephemeralSecret: ephemeral, callerNonce: alicesNonce, calleeNonce: ground)
        #expect(alice.sas(reveal: guess).words.prefix(2) == bobsWords.prefix(2))
        // …but Alice's words take her own value, revealed after the answer: they no longer match
        // (by chance they would, one time in 2¹⁶).
        let alicesReveal = SASCommitment.random()
        #expect(alice.sas(reveal: alicesReveal.reveal).words.prefix(2) != bobsWords.prefix(2))
        // And Alice cannot be made to reveal another value than the one she committed to.
        #expect(!SASCommitment.opens(alicesReveal.commitment, with: guess))
    }

    @Test func confirmationsProveTheSameKeysAndCannotBeReflectedOrMoved() {
        let a = CallKeys(callSecret: secret, ephemeralSecret: ephemeral, callerNonce: callerNonce, calleeNonce: calleeNonce)
        let b = CallKeys(callSecret: copy(secret), ephemeralSecret: copy(ephemeral), callerNonce: callerNonce, calleeNonce: calleeNonce)
        let mallory = CallKeys(
            callSecret: SecureBytes(randomCount: 32), ephemeralSecret: ephemeral, callerNonce: callerNonce, calleeNonce: calleeNonce)
        let fromCallee = b.confirmation(fromCaller: false, callID: "c1")
        #expect(a.verifyConfirmation(fromCallee, fromCaller: false, callID: "c1"))
        #expect(!a.verifyConfirmation(fromCallee, fromCaller: true, callID: "c1"))  // reflected
        #expect(!a.verifyConfirmation(fromCallee, fromCaller: false, callID: "c2"))  // other call
        #expect(!a.verifyConfirmation(mallory.confirmation(fromCaller: false, callID: "c1"), fromCaller: false, callID: "c1"))
    }

    @Test func signalingBlobsOpenOnlyWithTheRightKeyAndContext() throws {
        let offerKey = CallKeys.signalingKey(callSecret: secret, forOffer: true)
        let sealed = offerKey.seal(Array("offer".utf8), associatedData: [1, 2, 3])
        #expect(
            try CallKeys.signalingKey(callSecret: copy(secret), forOffer: true).open(sealed, associatedData: [1, 2, 3])
                == Array("offer".utf8))
        #expect(throws: SealingError.cannotOpen) { try offerKey.open(sealed, associatedData: [1, 2, 4]) }
        #expect(throws: SealingError.cannotOpen) {
            try CallKeys.signalingKey(callSecret: secret, forOffer: false).open(sealed, associatedData: [1, 2, 3])
        }
        var tampered = sealed
        tampered[30] ^= 0x80
        #expect(throws: SealingError.cannotOpen) { try offerKey.open(tampered, associatedData: [1, 2, 3]) }
        #expect(throws: SealingError.malformed) { try offerKey.open([1, 2, 3], associatedData: []) }
    }

    @Test func signalsSealedForOneRoleAndCallOpenOnlyAsThat() throws {
        let secret = SecureBytes(randomCount: 32)
        let caller = CallKeys(
            callSecret: secret, ephemeralSecret: ephemeral, callerNonce: [UInt8](repeating: 1, count: 32),
            calleeNonce: [UInt8](repeating: 2, count: 32))
        let callee = CallKeys(
            callSecret: secret, ephemeralSecret: ephemeral, callerNonce: [UInt8](repeating: 1, count: 32),
            calleeNonce: [UInt8](repeating: 2, count: 32))
        let sealed = caller.sealSignal([1, 2, 3], fromCaller: true, callID: "c1")
        #expect(try callee.openSignal(sealed, fromCaller: true, callID: "c1") == [1, 2, 3])
        #expect(throws: (any Error).self) { try callee.openSignal(sealed, fromCaller: false, callID: "c1") }  // reflected
        #expect(throws: (any Error).self) { try callee.openSignal(sealed, fromCaller: true, callID: "c2") }  // moved
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        #expect(throws: (any Error).self) { try callee.openSignal(tampered, fromCaller: true, callID: "c1") }
    }
}
