import DuetCrypto
import DuetWire
import Foundation
import Testing

@testable import DuetClient

@Suite("Call handshake")
struct CallHandshakeTests {
    let home: TemporaryDirectory
    let bob: DeviceStore
    let alice = IdentityKeyPair.generate()

    init() throws {
        home = try TemporaryDirectory()
        bob = try DeviceStore.open(ProfileLocation(name: "bob", home: home.url), passphrase: nil, create: true)
        try bob.initializeKeys()
    }

    func bundle(withOneTime: Bool) throws -> PrekeyBundle {
        PrekeyBundle(
            identityKey: try bob.identityPublicKey(), signedPrekey: try bob.currentSignedPrekey().publicPart,
            oneTimePrekey: withOneTime ? try bob.oneTimePrekeysForUpload().first : nil)
    }

    let committed = SASCommitment.random()
    var offer: CallOffer {
        CallOffer(
            callerNonce: Data(repeating: 1, count: 32), sasCommitment: Data(committed.commitment),
            candidates: [Candidate(kind: .host, address: TransportAddress(ipv4: "127.0.0.1", port: 4000)!)], ssrc: 42, relayOnly: false,
            sentAt: 1_800_000_000)
    }

    @Test func fullExchangeAgreesOnKeysAndConsumesTheOneTimePrekey() throws {
        let (invitation, callerSecret, callerAD, ephemeral) = try CallHandshake.invite(
            identity: alice, callerNumber: "+100", bundle: bundle(withOneTime: true), callID: "c1", offer: offer)
        let accepted = try CallHandshake.accept(invitation, store: bob)
        #expect(accepted.offer == offer)
        #expect(accepted.callerIdentity == alice.publicKey)
        #expect(try bob.oneTimePrekeyCount() == 99)
        let calleeNonce = Data(repeating: 2, count: 32)
        let (calleeKeys, calleeEphemeral) = try CallHandshake.calleeKeys(
            callSecret: accepted.callSecret, invitation: invitation,
            callerNonce: [UInt8](offer.callerNonce), calleeNonce: [UInt8](calleeNonce))
        let answer = CallAnswer(
            calleeNonce: calleeNonce, calleeEphemeralKey: Data(calleeEphemeral.rawRepresentation), candidates: [], ssrc: 7,
            confirmation: Data(calleeKeys.confirmation(fromCaller: false, callID: "c1")))
        let sealed = try CallHandshake.sealAnswer(
            answer, callSecret: accepted.callSecret, associatedData: accepted.associatedData, callID: "c1")
        let opened = try CallHandshake.openAnswer(sealed, callSecret: callerSecret, associatedData: callerAD, callID: "c1")
        let callerKeys = try CallHandshake.callerKeys(
            callSecret: callerSecret, ephemeral: ephemeral, answer: opened, callerNonce: [UInt8](offer.callerNonce))
        #expect(callerKeys.callerToCallee.constantTimeEquals(calleeKeys.callerToCallee))
        #expect(callerKeys.verifyConfirmation([UInt8](opened.confirmation), fromCaller: false, callID: "c1"))
        #expect(callerKeys.sas(reveal: committed.reveal) == calleeKeys.sas(reveal: committed.reveal))
        #expect(SASCommitment.opens([UInt8](accepted.offer.sasCommitment), with: committed.reveal))
        // The same invitation cannot be accepted twice: its one-time prekey is gone.
        #expect(throws: DeviceStoreError.self) { try CallHandshake.accept(invitation, store: bob) }
    }

    @Test func aTamperedOfferLeavesTheOneTimePrekeyInPlace() throws {
        let (invitation, _, _, _) = try CallHandshake.invite(
            identity: alice, callerNumber: "+100", bundle: bundle(withOneTime: true), callID: "c1", offer: offer)
        var sealed = [UInt8](invitation.sealedOffer)
        sealed[sealed.count - 1] ^= 1
        let tampered = CallInvitation(
            callID: invitation.callID, callerNumber: invitation.callerNumber, callerIdentityKey: invitation.callerIdentityKey,
            ephemeralKey: invitation.ephemeralKey, signedPrekeyID: invitation.signedPrekeyID,
            oneTimePrekeyID: invitation.oneTimePrekeyID, sealedOffer: Data(sealed))
        #expect(throws: CallHandshakeError.offerDoesNotOpen) { try CallHandshake.accept(tampered, store: bob) }
        #expect(try bob.oneTimePrekeyCount() == 100)
        // Moving the sealed offer to another call id does not open either.
        let moved = CallInvitation(
            callID: "c2", callerNumber: invitation.callerNumber, callerIdentityKey: invitation.callerIdentityKey,
            ephemeralKey: invitation.ephemeralKey, signedPrekeyID: invitation.signedPrekeyID,
            oneTimePrekeyID: invitation.oneTimePrekeyID, sealedOffer: invitation.sealedOffer)
        #expect(throws: CallHandshakeError.offerDoesNotOpen) { try CallHandshake.accept(moved, store: bob) }
        #expect(try bob.oneTimePrekeyCount() == 100)
    }

    @Test func aServerThatSwapsTheCallersIdentityBreaksTheOffer() throws {
        let (invitation, _, _, _) = try CallHandshake.invite(
            identity: alice, callerNumber: "+100", bundle: bundle(withOneTime: false), callID: "c1", offer: offer)
        let mallory = IdentityKeyPair.generate()
        let swapped = CallInvitation(
            callID: invitation.callID, callerNumber: invitation.callerNumber, callerIdentityKey: Data(mallory.publicKey.rawRepresentation),
            ephemeralKey: invitation.ephemeralKey, signedPrekeyID: invitation.signedPrekeyID,
            oneTimePrekeyID: nil, sealedOffer: invitation.sealedOffer)
        #expect(throws: CallHandshakeError.offerDoesNotOpen) { try CallHandshake.accept(swapped, store: bob) }
    }

    @Test func withoutAOneTimePrekeyTheCallStillWorks() throws {
        let (invitation, callerSecret, _, _) = try CallHandshake.invite(
            identity: alice, callerNumber: "+100", bundle: bundle(withOneTime: false), callID: "c1", offer: offer)
        #expect(invitation.oneTimePrekeyID == nil)
        let accepted = try CallHandshake.accept(invitation, store: bob)
        #expect(accepted.callSecret.constantTimeEquals(callerSecret))
        #expect(try bob.oneTimePrekeyCount() == 100)
    }

    /// Forward secrecy without a one-time prekey: the server hands out Bob's bundle without one,
    /// records the invitation and the sealed answer, and later reads Bob's device store (identity
    /// and signed prekey). That rebuilds SK and opens the answer — but the call's keys also take
    /// a DH of two ephemeral keys whose private halves are gone, so nothing it can compute from
    /// what it holds — SK with any DH of a stored private key and a public key on the wire — is
    /// the key the media went under.
    @Test func aCallWithoutAOneTimePrekeyCannotBeReadLaterFromTheCalleesStore() throws {
        let (invitation, callerSecret, callerAD, ephemeral) = try CallHandshake.invite(
            identity: alice, callerNumber: "+100",
            bundle: bundle(withOneTime: false), callID: "c1", offer: offer)
        let accepted = try CallHandshake.accept(invitation, store: bob)
        let calleeNonce = [UInt8](repeating: 2, count: 32)
        let (calleeKeys, calleeEphemeral) = try CallHandshake.calleeKeys(
            callSecret: accepted.callSecret, invitation: invitation,
            callerNonce: [UInt8](offer.callerNonce), calleeNonce: calleeNonce)
        let answer = CallAnswer(
            calleeNonce: Data(calleeNonce), calleeEphemeralKey: Data(calleeEphemeral.rawRepresentation), candidates: [], ssrc: 7,
            confirmation: Data(calleeKeys.confirmation(fromCaller: false, callID: "c1")))
        let sealed = try CallHandshake.sealAnswer(
            answer, callSecret: accepted.callSecret, associatedData: accepted.associatedData, callID: "c1")
        let media = try CallHandshake.callerKeys(
            callSecret: callerSecret, ephemeral: ephemeral,
            answer: try CallHandshake.openAnswer(sealed, callSecret: callerSecret, associatedData: callerAD, callID: "c1"),
            callerNonce: [UInt8](offer.callerNonce)
        ).callerToCallee

        // Later, with Bob's store and the recorded signals:
        let rebuilt = try CallHandshake.accept(invitation, store: bob)
        #expect(rebuilt.callSecret.constantTimeEquals(callerSecret), "the store alone rebuilds SK")
        let opened = try CallHandshake.openAnswer(
            sealed, callSecret: rebuilt.callSecret, associatedData: rebuilt.associatedData, callID: "c1")
        let stored = [try bob.identity().agreementKeyPair, try bob.currentSignedPrekey().keyPair]
        let onTheWire = [
            try X25519PublicKey(rawRepresentation: [UInt8](invitation.ephemeralKey)),
            try X25519PublicKey(rawRepresentation: [UInt8](opened.calleeEphemeralKey)), alice.publicKey.agreementKey
        ]
        var contributions: [SecureBytes] = []
        for pair in stored { for key in onTheWire { contributions.append(try pair.sharedSecret(with: key)) } }
        for contribution in contributions {
            let attempt = CallKeys(
                callSecret: rebuilt.callSecret, ephemeralSecret: contribution, callerNonce: [UInt8](offer.callerNonce),
                calleeNonce: [UInt8](opened.calleeNonce))
            #expect(!attempt.callerToCallee.constantTimeEquals(media))
        }
    }

    @Test func callKeysAreReleasedWithTheirOwner() throws {
        weak var srtp: SecureBytes?
        do {
            let keys = CallKeys(
                callSecret: SecureBytes(randomCount: 32), ephemeralSecret: SecureBytes(randomCount: 32), callerNonce: [1], calleeNonce: [2])
            srtp = keys.callerToCallee
            #expect(srtp != nil)
        }
        #expect(srtp == nil)
    }

    /// Bad input (docs/networking.md "Candidates and checks"): a malformed candidate is refused with the reason and the call
    /// goes on with the others; a flood of candidates is cut at the cap.
    @Test func aMalformedCandidateIsRefusedAndTheRestAreKept() throws {
        let json =
            #"{"callerNonce":"AQID","sasCommitment":"AQID","ssrc":9,"relayOnly":false,"sentAt":0,"candidates":["#
            + #"{"kind":"host","ip":[192,0,2,5],"port":4000},"#
            + #"{"kind":"host","ip":[1,2,3],"port":4001},"#
            + #"{"kind":"prflx","ip":[192,0,2,6],"port":4002},"#
            + #""not a candidate","#
            + #"{"kind":"srflx","ip":[203,0,113,9],"port":4003}]}"#
        let offer = try JSONDecoder().decode(CallOffer.self, from: Data(json.utf8))
        #expect(offer.candidates.map(\.description) == ["host 192.0.2.5:4000", "srflx 203.0.113.9:4003"])
        #expect(offer.refusedCandidates.count == 3)
        #expect(offer.refusedCandidates[0].contains("4 or 16 bytes"), "\(offer.refusedCandidates)")

        let many = (0..<100).map { #"{"kind":"host","ip":[198,51,100,\#($0)],"port":9}"# }.joined(separator: ",")
        let flood = try JSONDecoder().decode(
            CallOffer.self,
            from: Data(#"{"callerNonce":"AQID","sasCommitment":"AQID","ssrc":9,"relayOnly":false,"sentAt":0,"candidates":[\#(many)]}"#.utf8)
        )
        #expect(flood.candidates.count == ConnectivityChecks.maximumRemoteCandidates)
    }

    /// A refused candidate's reason quotes what the peer sent; it is printed by `duet call`, so a
    /// terminal escape in it must not reach the terminal.
    @Test func aRefusedCandidatesReasonCarriesNoControlCharacters() throws {
        let json =
            #"{"callerNonce":"AQID","sasCommitment":"AQID","ssrc":9,"relayOnly":false,"sentAt":0,"candidates":[{"kind":"\u001b]52;c;aGk=\u0007","ip":[1,2,3,4],"port":1}]}"#
        let offer = try JSONDecoder().decode(CallOffer.self, from: Data(json.utf8))
        #expect(offer.refusedCandidates.count == 1)
        #expect(
            !offer.refusedCandidates[0].unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(offer.refusedCandidates)")
    }
}
