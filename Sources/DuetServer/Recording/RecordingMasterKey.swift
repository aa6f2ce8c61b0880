import DuetCrypto
import Foundation

/// The server's recordings master key (`recordings.key` in the data dir, 32 bytes, 0600).
/// It never encrypts audio itself: it wraps each recording's fresh key (XChaCha20-Poly1305),
/// so one leaked recording key exposes one recording, and the master key can be kept
/// offline by an operator who only needs to export now and then.
public struct RecordingMasterKey: Sendable {
    public static let fileName = "recordings.key"
    static let byteCount = 32
    /// Bytes of the key id stored in each file header and sidecar.
    static let idCount = 8

    private let key: AEADKey
    /// A public fingerprint of the key (HMAC of a fixed label), stored in each recording so a
    /// wrong key is told apart from a damaged file without trying to decrypt anything.
    let keyID: [UInt8]

    init(secret: SecureBytes) throws(RecordingError) {
        do { key = try AEADKey(secret) } catch { throw .badMasterKey(path: Self.fileName, reason: "\(error)") }
        keyID = Array(
            MessageAuthentication.code(.sha256, key: secret, message: Array("duet recordings key id v1".utf8)).prefix(Self.idCount))
    }

    /// The data dir's key, made (O_EXCL, 0600, before any byte is written) if there is none yet.
    /// The recorder uses this: the first recording creates the key.
    public static func loadOrCreate(dataDirectory: URL) throws(RecordingError) -> RecordingMasterKey {
        let path = dataDirectory.appendingPathComponent(fileName).path
        if FileManager.default.fileExists(atPath: path) { return try load(dataDirectory: dataDirectory) }
        do {
            try FileManager.default.createDirectory(
                at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(operation: "create the data directory", path: dataDirectory.path, reason: "\(error)")
        }
        let secret = SecureBytes(randomCount: byteCount)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            // Another recorder made it first: use theirs.
            if errno == EEXIST { return try load(dataDirectory: dataDirectory) }
            throw .writing(path, operation: "create the recordings key", errno: errno)
        }
        defer { close(fd) }
        // Written straight from the SecureBytes: the key is never copied into an array.
        let written = secret.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == byteCount, fsync(fd) == 0 else {
            let code = (0..<byteCount).contains(written) ? ENOSPC : errno  // a short write: the disk filled
            unlink(path)
            throw .writing(path, operation: "write the recordings key", errno: code)
        }
        return try RecordingMasterKey(secret: secret)
    }

    /// The data dir's key; the vault uses this, since exporting must never invent a key.
    public static func load(dataDirectory: URL) throws(RecordingError) -> RecordingMasterKey {
        let path = dataDirectory.appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else { throw .noMasterKey(path: path) }
        guard var bytes = FileManager.default.contents(atPath: path).map(Array.init) else {
            throw .badMasterKey(path: path, reason: "cannot read it; it should be 0600 and owned by the server's user")
        }
        defer { wipe(&bytes) }
        guard bytes.count == byteCount else {
            throw .badMasterKey(path: path, reason: "it holds \(bytes.count) bytes, not \(byteCount)")
        }
        return try RecordingMasterKey(secret: SecureBytes(copying: bytes))
    }

    /// Seals a recording key; `associatedData` binds it to the header it sits in.
    func wrap(_ recordingKey: SecureBytes, associatedData: [UInt8]) -> [UInt8] {
        var plain = recordingKey.withUnsafeBytes { Array($0) }
        defer { wipe(&plain) }
        return key.seal(plain, associatedData: associatedData)
    }

    /// Opens a wrapped recording key, or nil if it does not authenticate.
    func unwrap(_ wrapped: [UInt8], associatedData: [UInt8]) -> SecureBytes? {
        guard var plain = try? key.open(wrapped, associatedData: associatedData) else { return nil }
        defer { wipe(&plain) }
        guard plain.count == SecretStream.keyCount else { return nil }
        return SecureBytes(copying: plain)
    }

    /// Seals a small record (a recording's metadata sidecar) under the master key itself.
    func sealRecord(_ plaintext: [UInt8], associatedData: [UInt8]) -> [UInt8] { key.seal(plaintext, associatedData: associatedData) }

    func openRecord(_ sealed: [UInt8], associatedData: [UInt8]) -> [UInt8]? { try? key.open(sealed, associatedData: associatedData) }
}

extension RecordingMasterKey: CustomStringConvertible {
    public var description: String { "RecordingMasterKey(redacted)" }
}
