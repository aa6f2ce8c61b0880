/// Why the device store could not do what was asked. Every case says what to do next.
public enum DeviceStoreError: Error, Equatable, CustomStringConvertible {
    /// The store's private keys are sealed and no passphrase was given.
    case passphraseRequired(path: String)
    /// The passphrase given does not open this store.
    case wrongPassphrase(path: String)
    /// `duet keys seal` on a store that is sealed already.
    case alreadySealed(path: String)
    /// No identity yet.
    case noIdentity
    /// The file is not a Duet device store, or a stored key does not decode.
    case corrupt(path: String, reason: String)
    /// The file system or SQLite refused.
    case storage(path: String, reason: String)
    /// The caller named a one-time prekey this device no longer holds (already used).
    case unknownOneTimePrekey(id: UInt32)
    /// The caller named a signed prekey this device no longer holds (rotated out).
    case unknownSignedPrekey(id: UInt32)

    public var description: String {
        switch self {
        case let .passphraseRequired(path):
            "the keys in \(path) are sealed with a passphrase: type it when asked, or set DUET_PASSPHRASE"
        case let .wrongPassphrase(path):
            "that passphrase does not open \(path): check it (the store is unchanged)"
        case let .alreadySealed(path):
            "the keys in \(path) are sealed already; nothing changed"
        case .noIdentity:
            "this profile has no identity key yet: run 'duet keys init'"
        case let .corrupt(path, reason):
            "\(path) is damaged or not a Duet device store (\(reason)); it was left untouched"
        case let .storage(path, reason):
            "cannot use \(path): \(reason)"
        case let .unknownOneTimePrekey(id):
            "one-time prekey \(id) is not on this device (already used); the caller must fetch a new bundle"
        case let .unknownSignedPrekey(id):
            "signed prekey \(id) is not on this device any more (rotated out); the caller must fetch a new bundle"
        }
    }
}
