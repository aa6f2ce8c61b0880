import Foundation

/// This device's own keys as a keys screen tells them: the identity fingerprint and the
/// signed prekey's id and age, in plain text and numbers, so a screen needs no key types.
public struct DeviceKeys: Sendable, Equatable {
    public let fingerprint: IdentityFingerprint
    public let signedPrekeyID: UInt32
    /// When the current signed prekey was made (it is rotated weekly).
    public let signedPrekeyCreatedAt: Date

    public init(fingerprint: IdentityFingerprint, signedPrekeyID: UInt32, signedPrekeyCreatedAt: Date) {
        self.fingerprint = fingerprint
        self.signedPrekeyID = signedPrekeyID
        self.signedPrekeyCreatedAt = signedPrekeyCreatedAt
    }
}
