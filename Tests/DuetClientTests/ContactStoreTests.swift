import DuetCrypto
import DuetWire
import Foundation
import Testing

@testable import DuetClient

@Suite("Device store: contacts and account")
struct ContactStoreTests {
    let home: TemporaryDirectory
    let store: DeviceStore

    init() throws {
        home = try TemporaryDirectory()
        store = try DeviceStore.open(ProfileLocation(name: "alice", home: home.url), passphrase: nil, create: true)
    }

    @Test func verifiedContactBecomesKeyChangedWhenItsKeyChanges() throws {
        let first = IdentityKeyPair.generate().publicKey, second = IdentityKeyPair.generate().publicKey
        try store.addContact(number: "+200", name: "Bob")
        #expect(try store.recordIdentityKey(first, for: "+200") == .unverified)
        #expect(try store.markVerified(number: "+200", key: first))
        guard case .verified = try store.contact(number: "+200")?.trust else {
            Issue.record("not verified")
            return
        }
        // Same key again changes nothing.
        guard case .verified = try store.recordIdentityKey(first, for: "+200") else {
            Issue.record("lost verification")
            return
        }
        // A new key voids the verification.
        guard case .keyChanged = try store.recordIdentityKey(second, for: "+200") else {
            Issue.record("no KEY CHANGED")
            return
        }
        #expect(try store.contact(number: "+200")?.identityKey == second)
        // Verifying against the old key is refused; against the new one it holds again.
        #expect(try !store.markVerified(number: "+200", key: first))
        #expect(try store.markVerified(number: "+200", key: second))
        guard case .verified = try store.contact(number: "+200")?.trust else {
            Issue.record("not re-verified")
            return
        }
    }

    @Test func contactsAreListedRenamedAndRemoved() throws {
        try store.addContact(number: "+300", name: nil)
        try store.addContact(number: "+200", name: "Bob")
        try store.addContact(number: "+300", name: "Carol")
        try store.addContact(number: "+200", name: nil)  // keeps the name
        #expect(try store.contacts().map(\.displayName) == ["Bob (+200)", "Carol (+300)"])
        #expect(try store.removeContact(number: "+200"))
        #expect(try !store.removeContact(number: "+200"))
        #expect(try store.contacts().map(\.number) == ["+300"])
    }

    @Test func accountRoundTrips() throws {
        #expect(try store.account() == AccountRecord())
        let account = AccountRecord(
            number: "+100", displayName: "Alice", server: .loopback(port: 7400),
            serverFingerprint: "ab:cd", registeredAt: Date(timeIntervalSince1970: 1_700_000_000))
        try store.saveAccount(account)
        #expect(try store.account() == account)
    }
}
