import DiskFaults
import DuetClient
import DuetCrypto
import DuetMedia
import DuetWire
import Foundation
import GRDB
import Testing

@testable import DuetServer

/// docs/server.md "When the disk fills", the last fault: the server's disk fills while it runs. Its data dir is on a
/// tmpfs of its own, filled to ENOSPC for real, so SQLite's writes fail as they would on a full
/// disk. Every request that needs a write is refused with `storage_unavailable` and a message
/// that says so; what needs no write is served; one error line is logged; once the filler is
/// deleted, writes work again with no restart, and the database is intact with everything it held.
@Suite(
    "Disk full: signaling", .serialized,
    .enabled(if: TmpfsMount.isAvailable, "mounts a tmpfs to fill: needs root or CAP_SYS_ADMIN; skipped where mount(2) is refused"))
struct DiskFullSignalingTests {
    static let full =
        "the server's disk is full, so it could not save this and nothing was changed; try again later, and tell the server's operator if it goes on"

    func expectStorageFull(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected storage_unavailable", sourceLocation: sourceLocation)
        } catch let ServerConnectionError.server(code, message) {
            #expect(code == .storageUnavailable, sourceLocation: sourceLocation)
            #expect(message == Self.full, sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected storage_unavailable, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func writesAreRefusedWhileTheDiskIsFullAndWorkAgainOnceSpaceIsBack() async throws {
        let disk = try TmpfsMount(kilobytes: 4096)
        defer { disk.unmount() }
        let log = CapturedLog()
        let data = disk.url.appendingPathComponent("server")
        let server = try await TestServer.start(dataDirectory: data.path, logger: log.logger)
        let (alice, bob, carol, dave) = (TestDevice(), TestDevice(), TestDevice(), TestDevice())
        let (a, _) = try await alice.connect(to: server)
        let (b, _) = try await bob.connect(to: server)
        let (c, _) = try await carol.connect(to: server)
        let (d, _) = try await dave.connect(to: server)
        try await alice.register(a, as: "+15557001")
        try await bob.register(b, as: "+15557002")
        try await carol.register(c, as: "+15557003")
        let group = try await a.createGroup(name: "Before", members: ["+15557002"])

        try disk.fill()
        #expect(disk.availableBytes == 0)
        // Every request that needs a write: refused, nothing changed.
        await expectStorageFull { try await dave.register(d, as: "+15557004") }
        await expectStorageFull { _ = try await a.uploadPrekeys(oneTimePrekeys: [OneTimePrekey.generate(id: 900).publicPart]) }
        await expectStorageFull { _ = try await a.createGroup(name: "During", members: ["+15557003"]) }
        await expectStorageFull { _ = try await a.addGroupMember(group: group.id, number: "+15557003") }
        await expectStorageFull { _ = try await a.removeGroupMember(group: group.id, number: "+15557002") }
        await expectStorageFull {
            _ = try await a.createMeeting(open: true, record: true, name: nil, dtlsFingerprint: try DTLSCertificate().fingerprint, ssrc: 1)
        }
        // What needs no write: served. A bundle comes without a one-time prekey, since taking
        // one is a delete that cannot commit; X3DH then runs without DH4.
        let bundle = try await b.fetchBundle(number: "+15557001")
        #expect(bundle.identityKey == alice.identity.publicKey)
        #expect(bundle.signedPrekey == alice.signedPrekey.publicPart)
        #expect(bundle.oneTimePrekey == nil, "a one-time prekey whose deletion did not commit was handed out")
        #expect(try await c.lookup(number: "+15557001").identityKey == alice.identity.publicKey)
        #expect(try await a.groups() == [group])
        try await a.ping()
        let (again, _) = try await alice.connect(to: server)
        #expect(await again.registeredNumber == "+15557001", "a login needs no write")
        let meeting = try await a.createMeeting(
            open: true, record: false, name: nil, dtlsFingerprint: try DTLSCertificate().fingerprint, ssrc: 2)
        #expect(!meeting.recording, "a meeting without a recording lives in memory")
        // One error line for the whole episode, however many requests were refused.
        let errors = log.messages(at: .error)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.hasPrefix("disk full: no space left on the file system holding \(data.path) (") == true, "\(errors)")

        disk.free()
        // No restart: the same server takes writes again.
        try await dave.register(d, as: "+15557004")
        let next = try await b.fetchBundle(number: "+15557001")
        #expect(next.oneTimePrekey == alice.oneTimePrekeys[0].publicPart, "the first prekey was never handed out, so it comes now")
        #expect(try await a.addGroupMember(group: group.id, number: "+15557003").members == ["+15557001", "+15557002", "+15557003"])
        #expect(
            log.messages(at: .notice).contains { $0.hasPrefix("writes succeed again in \(data.path); while the server's disk is full,") })
        for connection in [a, b, c, d, again] { await connection.close() }
        try await server.stop(keepingData: true)

        // Intact: SQLite's own check, and every account, prekey and group as it should be.
        let database = try DatabaseQueue(path: data.appendingPathComponent(SQLiteDirectoryStore.fileName).path)
        try await database.read { db in
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
            #expect(
                try String.fetchAll(db, sql: "SELECT number FROM account ORDER BY number") == [
                    "+15557001", "+15557002", "+15557003", "+15557004"
                ])
            let prekeys = try Row.fetchAll(
                db, sql: "SELECT number, COUNT(*) AS n, MIN(keyId) AS first FROM oneTimePrekey GROUP BY number ORDER BY number")
            #expect(
                prekeys.map { "\($0["number"] as String): \($0["n"] as Int) from \($0["first"] as Int)" } == [
                    "+15557001: 29 from 2", "+15557002: 30 from 1", "+15557003: 30 from 1", "+15557004: 30 from 1"
                ])
            #expect(try String.fetchAll(db, sql: "SELECT name FROM chatGroup") == ["Before"])
            #expect(
                try String.fetchAll(db, sql: "SELECT number FROM groupMember ORDER BY number") == ["+15557001", "+15557002", "+15557003"])
        }
        try database.close()
    }
}
