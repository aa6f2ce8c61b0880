import DuetWire
import Foundation
import GRDB
import Testing

@testable import DuetServer

/// A full disk refuses every write until someone frees space: the operator gets one error line
/// per episode (and one when it ends), the user a reply that says what happened and what to do.
@Suite("storage health (disk full, read-only)")
struct StorageHealthTests {
    @Test func anEpisodeIsLoggedOnceAndItsEndOnce() {
        let log = CapturedLog()
        let health = StorageHealth(directory: "/srv/duet", logger: log.logger)
        for _ in 0..<50 { health.refused(.full, detail: "SQLite error 13: database or disk is full") }
        #expect(health.failure == .full)
        #expect(
            log.messages(at: .error) == [
                "disk full: no space left on the file system holding /srv/duet (SQLite error 13: database or disk is full); "
                    + "requests that change data are refused (what is stored stays intact) until it is fixed; no restart needed — free space there (df -h /srv/duet)"
            ])
        health.refused(.failing, detail: "SQLite error 10: disk I/O error")
        #expect(log.messages(at: .error).count == 2, "another fault is another line")
        health.wrote()
        health.wrote()
        #expect(health.failure == nil)
        #expect(
            log.messages(at: .notice) == [
                "writes succeed again in /srv/duet; while the server's storage is failing, 51 request(s) that needed a write were refused"
            ])
        health.refused(.full, detail: "again")
        #expect(log.messages(at: .error).count == 3, "a new episode is logged again")
    }

    @Test func theUserIsToldWhatHappenedAndWhatToDo() {
        let reply = DirectoryError.storage(.full).reply
        #expect(reply.code == .storageUnavailable)
        #expect(reply.code.rawValue == "storage_unavailable")
        #expect(
            reply.message
                == "the server's disk is full, so it could not save this and nothing was changed; try again later, and tell the server's operator if it goes on"
        )
        #expect(DirectoryError.storage(.readOnly).reply.message.hasPrefix("the server's storage is read-only, so"))
    }

    @Test func errnoAndSQLiteCodesAreClassifiedInOnePlace() {
        #expect(StorageFailure(errno: ENOSPC) == .full)
        #expect(StorageFailure(errno: EDQUOT) == .full)
        #expect(StorageFailure(errno: EROFS) == .readOnly)
        #expect(StorageFailure(errno: EACCES) == .readOnly)
        #expect(StorageFailure(errno: EIO) == .failing)
        #expect(StorageFailure(database: DatabaseError(resultCode: .SQLITE_FULL)) == .full)
        #expect(StorageFailure(database: DatabaseError(resultCode: .SQLITE_READONLY)) == .readOnly)
        #expect(StorageFailure(database: DatabaseError(resultCode: .SQLITE_CONSTRAINT)) == nil, "not the disk's fault")
        #expect(RecordingError.writing("/d/r", operation: "write the recording", errno: ENOSPC) == .diskFull(path: "/d/r"))
        #expect(
            RecordingError.writing("/d/r", operation: "write the recording", errno: EIO)
                == .io(operation: "write the recording", path: "/d/r", reason: "Input/output error"))
    }
}
