import DuetCrypto
import Foundation
import Testing

@testable import DuetClient

/// `DUET_SRTP_KEYLOG` (docs/SECURITY.md, "Your device"): the keys go only to a file of this
/// user's that nobody else can read.
@Suite("SRTP key log")
struct KeyLogTests {
    let keys = CallKeys(
        callSecret: SecureBytes(randomCount: 32), ephemeralSecret: SecureBytes(randomCount: 32),
        callerNonce: [1], calleeNonce: [2])

    func record(_ path: String) throws(KeyLog.Failure) {
        try KeyLog.record(to: path, callID: "c1", keys: keys, isCaller: true, localSSRC: 1, remoteSSRC: 2)
    }

    /// A new file is made 0600 and later calls append to it; a symlink planted at the path, or a
    /// file others can read, gets nothing.
    @Test func keysGoOnlyToAPrivateFileNeverThroughASymlink() throws {
        let home = try TemporaryDirectory()
        let path = home.url.appendingPathComponent("keys.log").path
        try record(path)
        try record(path)
        // Each call: audio and video, sent and received.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 8)
        #expect(
            lines.prefix(4).map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == [
                "c1 ssrc=1 send", "c1 ssrc=2 receive", "c1 ssrc=2 send", "c1 ssrc=3 receive"
            ])
        #expect(lines.prefix(4).map { $0.hasSuffix(" video") } == [false, false, true, true])
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)

        let target = home.url.appendingPathComponent("elsewhere").path
        FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600])
        let link = home.url.appendingPathComponent("link.log").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(throws: KeyLog.Failure.self) { try record(link) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)).isEmpty, "the keys went through the symlink")

        let shared = home.url.appendingPathComponent("shared.log").path
        FileManager.default.createFile(atPath: shared, contents: nil, attributes: [.posixPermissions: 0o644])
        #expect(throws: KeyLog.Failure.unsafe(path: shared, reason: "can be read by others (make it chmod 600)")) { try record(shared) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: shared)).isEmpty)
    }
}
