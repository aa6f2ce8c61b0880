import DuetCrypto
import Foundation
import Testing

@testable import DuetClient

@Suite("Device store")
struct DeviceStoreTests {
    let home: TemporaryDirectory
    let location: ProfileLocation

    init() throws {
        home = try TemporaryDirectory()
        location = try ProfileLocation(name: "alice", home: home.url)
    }

    func open(passphrase: String? = nil, create: Bool = true) throws -> DeviceStore {
        try DeviceStore.open(location, passphrase: passphrase, create: create, cost: .minimum)
    }

    @Test func keysSurviveReopening() throws {
        let identity: IdentityPublicKey
        let spk: SignedPrekeyPublic
        do {
            let store = try open()
            #expect(try store.initializeKeys() == .created)
            identity = try store.identity().publicKey
            spk = try store.currentSignedPrekey().publicPart
        }
        let reopened = try open(create: false)
        #expect(try reopened.identity().publicKey == identity)
        #expect(try reopened.currentSignedPrekey().publicPart == spk)
        #expect(try reopened.oneTimePrekeyCount() == 100)
        try spk.verify(signedBy: identity)
    }

    @Test func initTwiceKeepsTheSameIdentity() throws {
        let store = try open()
        try store.initializeKeys()
        let first = try store.identityPublicKey()
        #expect(try open().initializeKeys() == .alreadyPresent)
        #expect(try open().identityPublicKey() == first)
        #expect(try store.oneTimePrekeyCount() == 100)
    }

    @Test func fileIsPrivateToTheUser() throws {
        try open().initializeKeys()
        let file = try FileManager.default.attributesOfItem(atPath: location.storeFile.path)
        let folder = try FileManager.default.attributesOfItem(atPath: location.directory.path)
        #expect((file[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((folder[.posixPermissions] as? NSNumber)?.intValue == 0o700)
    }

    @Test func showingAMissingProfileDoesNotCreateIt() throws {
        #expect(throws: DeviceStoreError.noIdentity) { try open(create: false) }
        #expect(!FileManager.default.fileExists(atPath: location.directory.path))
    }

    /// A device whose server is drained again and again tops up each time; it keeps only the
    /// newest `oneTimePrekeyCap` private halves, so its store stops growing.
    @Test func aDrainedDeviceKeepsAtMostItsCapOfOneTimePrekeys() throws {
        let store = try open()
        try store.initializeKeys()
        var newest: [UInt32] = []
        for _ in 0..<10 { newest = try store.makeOneTimePrekeys(count: DeviceStore.oneTimePrekeyTarget).map(\.id) }
        #expect(try store.oneTimePrekeyCount() == DeviceStore.oneTimePrekeyCap)
        let kept = Set(try store.oneTimePrekeysForUpload().map(\.id))
        #expect(Set(newest).isSubset(of: kept), "the last top-up is kept whole")
        #expect(!kept.contains(1), "the oldest went first")
    }

    @Test func usedOneTimePrekeyIsGoneAndBothSidesAgree() throws {
        let bob = try open()
        try bob.initializeKeys()
        let alice = IdentityKeyPair.generate()
        let opk = try #require(try bob.oneTimePrekeysForUpload().first)
        let bundle = PrekeyBundle(
            identityKey: try bob.identityPublicKey(), signedPrekey: try bob.currentSignedPrekey().publicPart, oneTimePrekey: opk)
        let start = try X3DH.initiate(from: alice, to: bundle)

        let bobIdentity = try bob.identity()
        let spk = try bob.signedPrekey(id: start.signedPrekeyID)
        let response = try bob.consumeOneTimePrekey(id: opk.id) { prekey in
            try X3DH.respond(
                identity: bobIdentity, signedPrekey: spk, oneTimePrekey: prekey,
                initiatorIdentity: alice.publicKey, ephemeralKey: start.ephemeralKey)
        }
        #expect(response.sharedSecret.constantTimeEquals(start.sharedSecret))
        #expect(try bob.oneTimePrekeyCount() == 99)
        #expect(try !bob.oneTimePrekeysForUpload().contains(opk))
        // Gone from the file, not only from this handle.
        #expect(try open(create: false).oneTimePrekeysForUpload().contains(opk) == false)
        #expect(throws: DeviceStoreError.unknownOneTimePrekey(id: opk.id)) {
            try bob.consumeOneTimePrekey(id: opk.id) { _ in () }
        }
    }

    /// A used one-time prekey's private half is not left anywhere in the store's files: zeroed
    /// where it was deleted (`secure_delete`), and its older copies emptied out of the log.
    @Test func aUsedOneTimePrekeyLeavesNoCopyOnDisk() throws {
        let bob = try open()
        try bob.initializeKeys()
        let opk = try #require(try bob.oneTimePrekeysForUpload().first)
        let privateHalf = try bob.consumeOneTimePrekey(id: opk.id) { prekey in prekey.keyPair.privateKey.withUnsafeBytes { Array($0) } }
        try bob.eraseDeletedKeysFromLog()
        #expect(!contains(try onDisk(location), privateHalf))
        // Control: a prekey not yet used is on disk as is, so the search above can find one.
        struct Kept: Error { let privateHalf: [UInt8] }
        let kept = try #require(try bob.oneTimePrekeysForUpload().first)
        do {
            try bob.consumeOneTimePrekey(id: kept.id) { prekey in
                throw Kept(privateHalf: prekey.keyPair.privateKey.withUnsafeBytes { Array($0) })
            }
        } catch let kept as Kept {
            #expect(contains(try onDisk(location), kept.privateHalf))
        }
    }

    @Test func aFailedUseLeavesTheOneTimePrekeyInPlace() throws {
        struct Refused: Error {}
        let store = try open()
        try store.initializeKeys()
        let id = try #require(try store.oneTimePrekeysForUpload().first?.id)
        #expect(throws: Refused.self) { try store.consumeOneTimePrekey(id: id) { _ in throw Refused() } }
        #expect(try store.oneTimePrekeyCount() == 100)
    }

    @Test func newPrekeysNeverReuseAnId() throws {
        let store = try open()
        try store.initializeKeys()
        let before = try store.oneTimePrekeysForUpload().map(\.id)
        for id in before.prefix(85) { try store.consumeOneTimePrekey(id: id) { _ in () } }
        #expect(try store.oneTimePrekeyCount() == 15)
        let added = try store.makeOneTimePrekeys(count: 85)
        #expect(added.count == 85)
        #expect(try store.oneTimePrekeyCount() == 100)
        #expect(Set(added.map(\.id)).isDisjoint(with: before))
    }

    @Test func rotationKeepsThePreviousSignedPrekeyOnly() throws {
        let store = try open()
        try store.initializeKeys()
        let identity = try store.identityPublicKey()
        let two = try store.rotateSignedPrekey()
        let three = try store.rotateSignedPrekey()
        #expect((two.id, three.id) == (2, 3))
        #expect(try store.currentSignedPrekey().id == 3)
        #expect(try store.signedPrekey(id: 2).id == 2)
        #expect(throws: DeviceStoreError.unknownSignedPrekey(id: 1)) { try store.signedPrekey(id: 1) }
        try three.publicPart.verify(signedBy: identity)
    }

    @Test func sealedStoreNeedsTheRightPassphrase() throws {
        let created = try open(passphrase: "correct horse")
        #expect(created.isSealed)
        try created.initializeKeys()
        let identity = try created.identityPublicKey()
        #expect(throws: DeviceStoreError.wrongPassphrase(path: location.storeFile.path)) { try open(passphrase: "battery staple") }
        #expect(throws: DeviceStoreError.passphraseRequired(path: location.storeFile.path)) { try open(passphrase: nil) }
        // Nothing was lost or replaced by the failed attempts.
        let reopened = try open(passphrase: "correct horse")
        #expect(try reopened.identity().publicKey == identity)
        #expect(try reopened.oneTimePrekeyCount() == 100)
    }

    @Test func sealedKeysAreNotInTheFileInTheClear() throws {
        let store = try open(passphrase: "pw")
        try store.initializeKeys()
        let seed = try store.identity().seed.withUnsafeBytes { Array($0) }
        #expect(!contains(try onDisk(location), seed))
        // Control: an unsealed store does hold its seed as is, so the search above can find one.
        let plainLocation = try ProfileLocation(name: "plain", home: home.url)
        let plain = try DeviceStore.open(plainLocation, passphrase: nil, create: true)
        try plain.initializeKeys()
        let plainSeed = try plain.identity().seed.withUnsafeBytes { Array($0) }
        #expect(contains(try onDisk(plainLocation), plainSeed))
    }

    /// `duet keys seal`: a profile made without a passphrase is sealed in place — the same keys,
    /// none of them left in the clear in the file or its log, and no opening without it after.
    @Test func sealingAnExistingStoreSealsEveryKeyAndLeavesNoneInTheClear() throws {
        let secrets: [[UInt8]]
        let identity: IdentityPublicKey
        do {
            let store = try open()
            try store.initializeKeys()
            identity = try store.identity().publicKey
            secrets = [
                try store.identity().seed.withUnsafeBytes { Array($0) },
                try store.currentSignedPrekey().keyPair.privateKey.withUnsafeBytes { Array($0) }
            ]
            #expect(secrets.allSatisfy { contains(try! onDisk(location), $0) }, "control: the clear keys are found before sealing")
        }
        try DeviceStore.seal(location, passphrase: "correct horse", cost: .minimum)
        let onDiskAfter = try onDisk(location)
        for secret in secrets { #expect(!contains(onDiskAfter, secret), "a private key is still in the clear after sealing") }
        #expect(throws: DeviceStoreError.passphraseRequired(path: location.storeFile.path)) { try open(passphrase: nil, create: false) }
        #expect(throws: DeviceStoreError.wrongPassphrase(path: location.storeFile.path)) { try open(passphrase: "wrong", create: false) }
        let sealed = try open(passphrase: "correct horse", create: false)
        #expect(sealed.isSealed)
        #expect(try sealed.identity().publicKey == identity)
        #expect(try sealed.currentSignedPrekey().keyPair.privateKey.withUnsafeBytes { Array($0) } == secrets[1])
        #expect(throws: DeviceStoreError.alreadySealed(path: location.storeFile.path)) {
            try DeviceStore.seal(location, passphrase: "another", cost: .minimum)
        }
    }

    /// Everything the store wrote: the file and its write-ahead log (where a write sits until a checkpoint).
    private func onDisk(_ location: ProfileLocation) throws -> [UInt8] {
        let log = URL(fileURLWithPath: location.storeFile.path + "-wal")
        return try [UInt8](Data(contentsOf: location.storeFile)) + ((try? [UInt8](Data(contentsOf: log))) ?? [])
    }

    @Test func aFileThatIsNotAStoreIsRefusedAndKept() throws {
        try FileManager.default.createDirectory(at: location.directory, withIntermediateDirectories: true)
        let junk = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try junk.write(to: location.storeFile)
        #expect(throws: DeviceStoreError.self) { try open(create: false) }
        #expect(try Data(contentsOf: location.storeFile) == junk)
    }

    @Test func profileNamesAreChecked() {
        #expect(throws: ProfileLocation.NameError.self) { try ProfileLocation(name: "../etc", home: home.url) }
        #expect(throws: ProfileLocation.NameError.self) { try ProfileLocation(name: "", home: home.url) }
        #expect(throws: Never.self) { try ProfileLocation(name: "bob-2_x", home: home.url) }
    }

    @Test func homeFollowsTheEnvironment() {
        #expect(ProfileLocation.home(environment: ["DUET_HOME": "/d", "XDG_DATA_HOME": "/x", "HOME": "/h"]).path == "/d")
        #expect(ProfileLocation.home(environment: ["XDG_DATA_HOME": "/x", "HOME": "/h"]).path == "/x/duet")
        #expect(ProfileLocation.home(environment: ["HOME": "/h"]).path == "/h/.local/share/duet")
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
