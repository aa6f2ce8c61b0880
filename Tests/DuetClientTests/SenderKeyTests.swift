import DuetCrypto
import DuetMedia
import Foundation
import Testing

@testable import DuetClient

/// Group-call keys without a network (docs/group-calls.md): the pairwise channel that carries
/// sender keys, and the key ring's epochs — who can read what after a leave or an add.
@Suite("Sender keys and pairwise channels")
struct SenderKeyTests {
    let home: TemporaryDirectory
    let bob: DeviceStore
    let alice = IdentityKeyPair.generate()

    init() throws {
        home = try TemporaryDirectory()
        bob = try DeviceStore.open(ProfileLocation(name: "bob", home: home.url), passphrase: nil, create: true)
        try bob.initializeKeys()
    }

    func bobsBundle() throws -> PrekeyBundle {
        PrekeyBundle(
            identityKey: try bob.identityPublicKey(), signedPrekey: try bob.currentSignedPrekey().publicPart,
            oneTimePrekey: try bob.oneTimePrekeysForUpload().first)
    }

    @Test func aChannelCarriesMessagesInOrderOnceEachAndUsesOneOneTimePrekey() throws {
        let sender = try PairwiseSender(identity: alice, to: bobsBundle(), callID: "g1")
        let first = sender.seal(Array("epoch 0".utf8))
        let (receiver, plain) = try PairwiseReceiver.accept(sender.header, firstMessage: first, store: bob, callID: "g1")
        #expect(plain == Array("epoch 0".utf8))
        #expect(receiver.senderIdentity == alice.publicKey)
        #expect(try bob.oneTimePrekeyCount() == 99)

        let second = sender.seal(Array("epoch 1".utf8))
        #expect(try receiver.open(second) == Array("epoch 1".utf8))
        #expect(throws: PairwiseChannelError.replayed(counter: 2)) { try receiver.open(second) }
        #expect(throws: PairwiseChannelError.replayed(counter: 1)) { try receiver.open(first) }
        var tampered = [UInt8](sender.seal([1, 2, 3]).ciphertext)
        tampered[tampered.count - 1] ^= 1
        #expect(throws: PairwiseChannelError.doesNotOpen) { try receiver.open(PairwiseMessage(counter: 9, ciphertext: Data(tampered))) }
    }

    @Test func aForgedOrMisdirectedFirstMessageBurnsNoPrekey() throws {
        let sender = try PairwiseSender(identity: alice, to: bobsBundle(), callID: "g1")
        let message = sender.seal([7])
        // The same channel opened for another call does not authenticate.
        #expect(throws: PairwiseChannelError.doesNotOpen) {
            _ = try PairwiseReceiver.accept(sender.header, firstMessage: message, store: bob, callID: "g2")
        }
        // A header naming another sender's identity does not either.
        let forged = PairwiseChannelHeader(
            senderIdentityKey: Data(IdentityKeyPair.generate().publicKey.rawRepresentation),
            ephemeralKey: sender.header.ephemeralKey, signedPrekeyID: sender.header.signedPrekeyID,
            oneTimePrekeyID: sender.header.oneTimePrekeyID)
        #expect(throws: PairwiseChannelError.doesNotOpen) {
            _ = try PairwiseReceiver.accept(forged, firstMessage: message, store: bob, callID: "g1")
        }
        #expect(try bob.oneTimePrekeyCount() == 100)
        _ = try PairwiseReceiver.accept(sender.header, firstMessage: message, store: bob, callID: "g1")
        #expect(try bob.oneTimePrekeyCount() == 99)
        // The one-time prekey is gone: the same first message cannot open a second channel.
        #expect(throws: (any Error).self) {
            _ = try PairwiseReceiver.accept(sender.header, firstMessage: message, store: bob, callID: "g1")
        }
    }

    @Test func aMemberWhoLeftCannotReadFramesAfterTheRekey() throws {
        let alice = try SenderKeyRing(), bob = try SenderKeyRing(), carol = try SenderKeyRing()
        let first = alice.rotate(cause: .joined)
        try bob.install(first, from: "alice")
        try carol.install(first, from: "alice")
        try alice.activate()
        let before = try alice.encrypt(Array("before".utf8))
        #expect(try bob.decrypt(before, from: "alice").payload == Array("before".utf8))
        #expect(try carol.decrypt(before, from: "alice").payload == Array("before".utf8))

        // Carol leaves: Alice rotates, tells only Bob, and switches.
        let second = alice.rotate(cause: .memberLeft)
        #expect(second.epoch == first.epoch + 1)
        #expect(second.keyID != first.keyID)
        try bob.install(second, from: "alice")
        try alice.activate()
        #expect(alice.epoch == second.epoch)
        let after = try alice.encrypt(Array("after".utf8))
        #expect(try bob.decrypt(after, from: "alice").payload == Array("after".utf8))
        #expect(throws: SFrameError.unknownKeyID(second.keyID)) { try carol.decrypt(after, from: "alice") }
    }

    @Test func aMemberAddedLaterCannotReadEarlierFrames() throws {
        let alice = try SenderKeyRing(), dave = try SenderKeyRing()
        try alice.activate()  // nothing pending: a no-op
        _ = alice.rotate(cause: .joined)
        try alice.activate()
        let early = try alice.encrypt(Array("early".utf8))
        let rekey = alice.rotate(cause: .memberAdded)
        try dave.install(rekey, from: "alice")
        try alice.activate()
        #expect(throws: SFrameError.self) { try dave.decrypt(early, from: "alice") }
        #expect(try dave.decrypt(try alice.encrypt([9]), from: "alice").payload == [9])
        // A frame from Alice passed off as another member's does not decrypt.
        #expect(throws: SFrameError.self) { try dave.decrypt(try alice.encrypt([9]), from: "mallory") }
    }

    @Test func thePreviousEpochRetiresAfterTheOverlapAndWipeReleasesEveryKey() throws {
        let alice = try SenderKeyRing(), bob = try SenderKeyRing(overlap: .milliseconds(500))
        let first = alice.rotate(cause: .joined)
        try bob.install(first, from: "alice")
        try alice.activate()
        let old = try alice.encrypt([1])
        let late = try alice.encrypt([2])
        let second = alice.rotate(cause: .memberLeft)
        try bob.install(second, from: "alice")
        try alice.activate()
        let now = ContinuousClock.now
        _ = try bob.decrypt(try alice.encrypt([3]), from: "alice", now: now)  // the new epoch is in use
        #expect(try bob.decrypt(old, from: "alice", now: now + .milliseconds(400)).payload == [1], "in flight, within the overlap")
        #expect(throws: SFrameError.self) { try bob.decrypt(late, from: "alice", now: now + .milliseconds(600)) }

        final class Weak {
            weak var object: AnyObject?
            init(_ o: AnyObject) { object = o }
        }
        let held = alice.ownKeyHolders.map(Weak.init)
        #expect(!held.isEmpty)
        alice.wipe()
        bob.wipe()
        #expect(held.allSatisfy { $0.object == nil })
        #expect(throws: SFrameError.self) { try alice.encrypt([4]) }
    }
}
