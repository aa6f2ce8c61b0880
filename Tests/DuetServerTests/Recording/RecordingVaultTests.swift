import DuetCrypto
import DuetMedia
import Foundation
import Testing

@testable import DuetServer

/// Export hands out authenticated audio only: every damaged file gives its own typed error and
/// leaves no file (and no temporary) behind; a file cut short exports what authenticates,
/// marked incomplete; the intact file exports whole, so each check below can fail.
@Suite("recording vault")
struct RecordingVaultTests {
    struct Fixture {
        let data: RecordingDataDirectory
        let key: RecordingMasterKey
        let id: RecordingID
        let file: URL
        let original: [UInt8]
        let output: URL
        var vault: RecordingVault { RecordingVault(dataDirectory: data.url, masterKey: key) }
        var chunks: [(offset: Int, length: Int)] { RecordingFixtures.chunks(of: original) }

        init() throws {
            data = try RecordingDataDirectory()
            key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
            let made = try RecordingFixtures.oneVoice(in: data.url, masterKey: key)
            id = made.0
            file = made.1
            original = Array(try Data(contentsOf: file))
            let exports = data.url.appendingPathComponent("exports", isDirectory: true)
            try FileManager.default.createDirectory(at: exports, withIntermediateDirectories: true)
            output = exports.appendingPathComponent("out.opus")
        }

        /// Replaces the file at rest, exports, and returns the error (nil if it exported).
        func export(damaged bytes: [UInt8]) throws -> RecordingError? {
            try Data(bytes).write(to: file)
            defer { try? Data(original).write(to: file) }
            do {
                try vault.export(id, to: output)
                return nil
            } catch {
                return error
            }
        }

        /// Nothing at all in the export folder: no output, no partial temporary.
        func exportFolderIsEmpty() throws -> Bool {
            try FileManager.default.contentsOfDirectory(atPath: output.deletingLastPathComponent().path).isEmpty
        }
    }

    @Test func anIntactRecordingExportsAndIsListed() throws {
        let f = try Fixture()
        #expect(f.chunks.count >= 4, "the fixture must have several chunks to cut between")
        #expect(try f.export(damaged: f.original) == nil)
        #expect(try OggOpusReader(contentsOf: f.output).packets.count == 200)
        let listed = try f.vault.list()
        #expect(listed.map(\.id) == ["rec-test"])
        #expect(listed.first?.meetingCode == "abc-defg-hij")
        #expect(listed.first?.ended != nil)
        #expect(listed.first?.byteSize == f.original.count)
        #expect(listed.first?.participants.count == 1)
    }

    /// A recording cut short (the server died, or its disk filled) exports every chunk that
    /// authenticates, trimmed to the last whole Ogg page, and says it is incomplete; the bytes
    /// after the last whole chunk are never passed on.
    @Test func aRecordingCutShortExportsUpToItsLastWholeChunkMarkedIncomplete() throws {
        let f = try Fixture()
        let chunks = f.chunks
        let middle = chunks.count / 2
        try f.vault.export(f.id, to: f.output)
        let intact = Array(try Data(contentsOf: f.output))
        try FileManager.default.removeItem(at: f.output)
        let cuts = [
            // (what, where the file is cut, whole chunks left before the cut)
            ("mid-chunk", chunks[middle].offset + chunks[middle].length / 2, middle),
            ("at the boundary before FINAL", chunks[chunks.count - 1].offset, chunks.count - 1),
            ("inside a length prefix", chunks[middle].offset + 2, middle)
        ]
        for (what, at, whole) in cuts {
            try Data(f.original.prefix(at)).write(to: f.file)
            defer { try? Data(f.original).write(to: f.file) }
            let export = try f.vault.export(f.id, to: f.output)
            #expect(!export.isComplete, "cut \(what)")
            let exported = Array(try Data(contentsOf: f.output))
            let expected = try RecordingFixtures.packetsSalvaged(from: intact, plaintextBytes: whole * 2048)
            #expect(!expected.isEmpty, "cut \(what): the fixture should leave whole pages of audio")
            #expect(try OggOpusReader(bytes: exported).packets == expected, "cut \(what)")
            #expect(intact.starts(with: exported), "cut \(what): the export is the recording's own bytes, up to a page end")
            #expect(export.byteCount == exported.count)
            #expect(abs(export.audioSeconds - Double(expected.count) * 0.02) < 0.03, "cut \(what): \(export.audioSeconds) s")
            try FileManager.default.removeItem(at: f.output)
        }
    }

    @Test func aFileCutBeforeItsFirstWholeChunkIsTruncatedAndLeavesNothing() throws {
        let f = try Fixture()
        for (what, at) in [("inside the header", 30), ("inside the first chunk", f.chunks[0].offset + 100)] {
            let error = try f.export(damaged: Array(f.original.prefix(at)))
            #expect(error == .truncated(id: "rec-test"), "cut \(what)")
            #expect(error?.description.hasPrefix("the recording is truncated: it ends before its first complete chunk") == true)
            #expect(try f.exportFolderIsEmpty(), "cut \(what)")
        }
    }

    @Test func tamperedRecordingsNameTheByteAndLeaveNothing() throws {
        let f = try Fixture()
        guard case let .header(header, headerLength) = RecordingFileHeader.parse(f.original) else {
            Issue.record("fixture has no header")
            return
        }
        let chunks = f.chunks
        let flips: [(String, Int, Int)] = [
            // (what, byte flipped, offset the error must name)
            ("recording id in the header", RecordingFileHeader.magic.count + 3, RecordingFileHeader.magic.count + 2),
            ("wrapped key", header.wrappedKeyOffset + 30, header.wrappedKeyOffset),
            ("secretstream header", headerLength - 5, headerLength),
            ("first chunk", chunks[0].offset + 40, chunks[0].offset),
            ("middle chunk", chunks[2].offset + 100, chunks[2].offset),
            ("final chunk", chunks[chunks.count - 1].offset + 8, chunks[chunks.count - 1].offset),
            ("chunk length", chunks[1].offset, chunks[1].offset)
        ]
        for (what, byte, offset) in flips {
            var bytes = f.original
            bytes[byte] ^= 0x01
            let error = try f.export(damaged: bytes)
            #expect(error == .tampered(id: "rec-test", offset: offset), "flipped \(what): \(String(describing: error))")
            #expect(error?.description.hasPrefix("the recording was tampered with or is corrupt at byte \(offset)") == true)
            #expect(try f.exportFolderIsEmpty(), "flipped \(what)")
        }
        // Reordered chunks and bytes after FINAL are tampering too.
        let c1 = Array(f.original[chunks[1].offset..<chunks[1].offset + chunks[1].length])
        let c2 = Array(f.original[chunks[2].offset..<chunks[2].offset + chunks[2].length])
        var swapped = Array(f.original[..<chunks[1].offset]) + c2 + c1
        swapped += f.original[(chunks[2].offset + chunks[2].length)...]
        #expect(try f.export(damaged: swapped) == .tampered(id: "rec-test", offset: chunks[1].offset))
        #expect(try f.export(damaged: f.original + c1) == .tampered(id: "rec-test", offset: f.original.count))
        #expect(try f.exportFolderIsEmpty())
    }

    @Test func aWrongMasterKeyFailsClearly() throws {
        let f = try Fixture()
        let other = try RecordingDataDirectory()
        let otherKey = try RecordingMasterKey.loadOrCreate(dataDirectory: other.url)
        let vault = RecordingVault(dataDirectory: f.data.url, masterKey: otherKey)
        #expect(throws: RecordingError.wrongMasterKey(id: "rec-test")) { try vault.export(f.id, to: f.output) }
        #expect(throws: RecordingError.wrongMasterKey(id: "rec-test")) { try vault.list() }
        #expect(try f.exportFolderIsEmpty())
        #expect(RecordingError.wrongMasterKey(id: "rec-test").description.contains("different recordings key"))
    }

    @Test func theMasterKeyIsMadeOnceAndNeverByTheVault() throws {
        let data = try RecordingDataDirectory()
        #expect(throws: RecordingError.noMasterKey(path: data.url.appendingPathComponent("recordings.key").path)) {
            try RecordingVault(dataDirectory: data.url)
        }
        let first = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        let second = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        #expect(first.keyID == second.keyID)
        #expect(!"\(first)".contains(first.keyID.map { String($0, radix: 16) }.joined()))
        #expect(throws: RecordingError.notFound(id: "rec-none", directory: data.url.appendingPathComponent("recordings").path)) {
            try RecordingVault(dataDirectory: data.url).export(RecordingID("rec-none"), to: data.url.appendingPathComponent("x.opus"))
        }
        #expect(try RecordingVault(dataDirectory: data.url).list().isEmpty)
    }

    @Test func anIdIsNeverReused() throws {
        let data = try RecordingDataDirectory()
        let key = try RecordingMasterKey.loadOrCreate(dataDirectory: data.url)
        _ = try RecordingFixtures.oneVoice(in: data.url, masterKey: key, seconds: 1)
        #expect(throws: RecordingError.alreadyExists(id: "rec-test")) {
            _ = try RecordingFixtures.oneVoice(in: data.url, masterKey: key, seconds: 1)
        }
        #expect(throws: RecordingError.invalidID("../etc")) { try RecordingID("../etc") }
    }
}
