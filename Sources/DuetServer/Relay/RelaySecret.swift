import DuetCrypto
import Foundation

/// The 32-byte key the relay's passwords are made under (TURN REST style, see
/// `RelayCredentialIssuer`). Made on first start and kept in the data dir with mode 0600, so
/// credentials handed out before a restart stay valid after it. Losing the file only
/// invalidates credentials in flight (they live minutes); nothing else depends on it.
struct RelaySecret: Sendable {
    static let fileName = "relay-secret"
    static let byteCount = 32

    let key: SecureBytes

    /// Loads the secret from `directory`, or makes and saves one. The file is created with
    /// O_EXCL and mode 0600 before any byte is written, so the secret is never readable by
    /// others, not even for a moment.
    static func loadOrCreate(in directory: URL) throws(ServerStartupError) -> RelaySecret {
        let path = directory.appendingPathComponent(fileName).path
        if FileManager.default.fileExists(atPath: path) { return try load(path) }
        let key = SecureBytes(randomCount: byteCount)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw .dataDirectory(
                "cannot create the relay secret \(path): \(String(cString: strerror(errno))); check the data directory's permissions")
        }
        defer { close(fd) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == byteCount, fsync(fd) == 0 else {
            unlink(path)
            throw .dataDirectory("cannot write the relay secret \(path): \(String(cString: strerror(errno)))")
        }
        return RelaySecret(key: key)
    }

    private static func load(_ path: String) throws(ServerStartupError) -> RelaySecret {
        guard var bytes = FileManager.default.contents(atPath: path).map(Array.init) else {
            throw .dataDirectory(
                "cannot read the relay secret \(path); check its permissions (it should be 0600, owned by the server's user)")
        }
        defer { wipe(&bytes) }
        guard bytes.count == byteCount else {
            throw .dataDirectory(
                "the relay secret \(path) holds \(bytes.count) bytes, not \(byteCount); delete it to make a new one (relay credentials already issued stop working)"
            )
        }
        return RelaySecret(key: SecureBytes(copying: bytes))
    }
}
