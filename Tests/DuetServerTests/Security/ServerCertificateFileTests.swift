import Foundation
import Testing

@testable import DuetServer

/// The server's TLS private key on disk (docs/SECURITY.md, "What each party stores").
@Suite("Security: the server's TLS key file")
struct ServerCertificateFileTests {
    /// Someone who can write to the data directory plants a symlink where the key is first
    /// written. The key never goes through it, and the key file ends owner-only. (The fix this
    /// file came with — the mode set from the first byte, not after the write — closes a window
    /// no test can hit on demand; this guards the end state, which the old code also reached.)
    @Test func theKeyFileIsPrivateAndAPlantedSymlinkIsNotFollowed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("duet-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stolen = directory.appendingPathComponent("stolen.pem")
        FileManager.default.createFile(atPath: stolen.path, contents: nil, attributes: [.posixPermissions: 0o666])
        let partial = directory.appendingPathComponent(ServerCertificate.keyFileName + ".partial")
        try FileManager.default.createSymbolicLink(at: partial, withDestinationURL: stolen)

        _ = try ServerCertificate.loadOrCreate(in: directory)
        #expect(try Data(contentsOf: stolen).isEmpty, "the key went through the planted symlink")
        let key = directory.appendingPathComponent(ServerCertificate.keyFileName)
        let attributes = try FileManager.default.attributesOfItem(atPath: key.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(try String(contentsOf: key, encoding: .utf8).contains("PRIVATE KEY"))
    }
}
