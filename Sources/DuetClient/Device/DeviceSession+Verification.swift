import DuetCrypto
import DuetWire

/// What the user compares and checks, in plain text: this device's fingerprint and keys, a
/// contact's safety number, whether a meeting link's certificate is the pinned one. Screens
/// (the TUI) ask here rather than handle keys and certificate fingerprints themselves.
extension DeviceSession {
    /// This device's identity fingerprint.
    public nonisolated func identityFingerprint() throws(DeviceStoreError) -> IdentityFingerprint {
        let identity = try store.identityPublicKey()
        return IdentityFingerprint(full: identity.fingerprint, short: identity.shortFingerprint)
    }

    /// This device's identity fingerprint and current signed prekey.
    public nonisolated func ownKeys() throws(DeviceStoreError) -> DeviceKeys {
        let fingerprint = try identityFingerprint()
        let signedPrekey = try store.currentSignedPrekey()
        return DeviceKeys(fingerprint: fingerprint, signedPrekeyID: signedPrekey.id, signedPrekeyCreatedAt: signedPrekey.createdAt)
    }

    /// The safety number with `number` (see `safetyNumber(with:)`: the key is looked up again
    /// first) as twelve groups of five digits, as shown on screen.
    public func safetyNumberGroups(with number: String) async throws -> [String] {
        try await safetyNumber(with: number).0.groups
    }

    /// Marks the key this device holds for `number` verified (the one whose safety number was
    /// just compared). False when `number` is not a contact, or has no key yet.
    public nonisolated func verifyContact(number: String) throws(DeviceStoreError) -> Bool {
        guard let key = try store.contact(number: number)?.identityKey else { return false }
        return try store.markVerified(number: number, key: key)
    }

    /// False when `link` names another server certificate than the one this profile pins for
    /// its server: the link, or the server, is not what it claims. A link that names none, or
    /// a profile with no pin, is not refused here.
    public nonisolated func pinnedCertificateMatches(_ link: MeetingLink) -> Bool {
        guard let named = link.certificate, let pinned = try? store.account().serverFingerprint else { return true }
        return (try? CertificateFingerprint(parsing: pinned)) == named
    }
}
