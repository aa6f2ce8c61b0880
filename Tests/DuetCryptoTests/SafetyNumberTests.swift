import Testing

@testable import DuetCrypto

@Suite("Safety numbers and SAS")
struct SafetyNumberTests {
    /// libsignal rust/protocol/src/fingerprint.rs, fingerprint_test_v1: both sides show this.
    @Test func libsignalPublishedVector() {
        let alice = [UInt8](hex: "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868")
        let bob = [UInt8](hex: "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b")
        let expected = "300354477692869396892869876765458257569162576843440918079131"
        let fromAlice = SafetyNumber(
            localIdentifier: Array("+14152222222".utf8), localKey: alice, remoteIdentifier: Array("+14153333333".utf8), remoteKey: bob)
        let fromBob = SafetyNumber(
            localIdentifier: Array("+14153333333".utf8), localKey: bob, remoteIdentifier: Array("+14152222222".utf8), remoteKey: alice)
        #expect(fromAlice.digits == expected)
        #expect(fromBob.digits == expected)
        #expect(fromAlice.groups.count == 12)
        #expect(fromAlice.groups.allSatisfy { $0.count == 5 })
        #expect(fromAlice.description == "30035 44776 92869 39689 28698 76765 45825 75691 62576 84344 09180 79131")
    }

    @Test func sameOnBothScreensAndChangesWithEitherKeyOrNumber() {
        let a = IdentityKeyPair.generate().publicKey, b = IdentityKeyPair.generate().publicKey, m = IdentityKeyPair.generate().publicKey
        let ab = SafetyNumber(localNumber: "+100", localKey: a, remoteNumber: "+200", remoteKey: b)
        let ba = SafetyNumber(localNumber: "+200", localKey: b, remoteNumber: "+100", remoteKey: a)
        #expect(ab == ba)
        #expect(ab.digits.count == 60 && ab.digits.allSatisfy(\.isNumber))
        #expect(ab != SafetyNumber(localNumber: "+100", localKey: m, remoteNumber: "+200", remoteKey: b))
        #expect(ab != SafetyNumber(localNumber: "+100", localKey: a, remoteNumber: "+200", remoteKey: m))
        #expect(ab != SafetyNumber(localNumber: "+101", localKey: a, remoteNumber: "+200", remoteKey: b))
    }

    @Test func sasIsSharedByHoldersOfTheSameSecretOnly() {
        let secret = SecureBytes(randomCount: 32)
        let copy = secret.withUnsafeBytes { SecureBytes(copying: Array($0)) }
        let reveal = SASCommitment.random().reveal
        let sas = ShortAuthenticationString(callSecret: secret, reveal: reveal)
        #expect(sas == ShortAuthenticationString(callSecret: copy, reveal: reveal))
        #expect(sas.words.count == 4)
        #expect(ShortAuthenticationString.bits >= 24)
        // Over 50 random secrets, or 50 other reveals, the SAS should essentially never repeat.
        let others = Set((0..<50).map { _ in ShortAuthenticationString(callSecret: SecureBytes(randomCount: 32), reveal: reveal) })
        #expect(!others.contains(sas))
        #expect(others.count >= 49)
        let otherReveals = Set((0..<50).map { _ in ShortAuthenticationString(callSecret: secret, reveal: SASCommitment.random().reveal) })
        #expect(!otherReveals.contains(sas))
    }

    @Test func aCommitmentOpensOnlyWithItsReveal() {
        let committed = SASCommitment.random()
        #expect(SASCommitment.opens(committed.commitment, with: committed.reveal))
        #expect(!SASCommitment.opens(committed.commitment, with: SASCommitment.random().reveal))
        #expect(!SASCommitment.opens(committed.commitment, with: Array(committed.reveal.dropLast())))
    }

    @Test func wordListHas256DistinctWords() {
        #expect(SASWordList.words.count == 256)
        #expect(Set(SASWordList.words).count == 256)
    }
}
