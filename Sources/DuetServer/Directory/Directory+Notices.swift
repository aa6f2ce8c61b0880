import DuetWire
import Foundation

/// Sealed notices (docs/history.md "Missed calls"): a registered device leaves one for a number
/// whose device is away; the server keeps it, unreadable to it, for the key that number is
/// bound to now, and hands it over when that device asks, until the device says it has it.
extension Directory {
    /// The largest sealed notice kept (a missed call's is about 300 bytes).
    static let maximumNoticeBytes = 1_024
    /// Notices one sender may have waiting for one recipient.
    static let maximumNoticesFromOneSender = 5
    /// Notices waiting for one recipient, from everyone.
    static let maximumNoticesWaiting = 100
    /// Notices handed over in one reply: 32 of the largest, in base64, stay far below a frame.
    static let noticesPerPage = 32
    /// A notice nobody took in this long is deleted (its number may have moved to another key).
    static let noticeLifetimeSeconds: Int64 = 30 * 86_400

    /// A notice handed to its recipient: its id (to say it was kept) and the sealed bytes.
    struct SealedNotice: Sendable {
        let id: Int64
        let body: [UInt8]
    }

    func leaveNotice(_ body: [UInt8], for number: String, from sender: [UInt8]) async throws(DirectoryError) {
        try PrekeyValidation.check(number: number)
        guard body.count <= Self.maximumNoticeBytes else {
            throw .quotaExceeded("a sealed notice is at most \(Self.maximumNoticeBytes) bytes; this one has \(body.count)")
        }
        try await write { tx in
            // The recipient's account row locked (PostgreSQL): concurrent leaves count in turn.
            guard let row = try await tx.row("SELECT identityKey FROM account WHERE number = ?" + tx.locking(.update), [number]) else {
                throw DirectoryError.unknownNumber(number)
            }
            let recipient = try row.bytes("identityKey")
            try await tx.execute(
                "DELETE FROM sealedNotice WHERE createdAt < ?", [Int64(Date().timeIntervalSince1970) - Self.noticeLifetimeSeconds])
            let fromSender = try await tx.count(
                "SELECT COUNT(*) AS count FROM sealedNotice WHERE toKey = ? AND fromKey = ?", [recipient, sender])
            guard fromSender < Self.maximumNoticesFromOneSender else {
                throw DirectoryError.quotaExceeded(
                    "\(number) already has \(fromSender) notices from this device waiting; more are kept once it has read them")
            }
            let waiting = try await tx.count("SELECT COUNT(*) AS count FROM sealedNotice WHERE toKey = ?", [recipient])
            guard waiting < Self.maximumNoticesWaiting else {
                throw DirectoryError.quotaExceeded("\(number) has \(waiting) notices waiting, the most kept for one device")
            }
            try await tx.execute(
                "INSERT INTO sealedNotice (toKey, fromKey, body, createdAt) VALUES (?, ?, ?, ?)",
                [recipient, sender, body, Int64(Date().timeIntervalSince1970)])
        }
    }

    /// The oldest notices waiting for `recipient`, at most a page (`noticesPerPage`).
    func notices(for recipient: [UInt8]) async throws(DirectoryError) -> [SealedNotice] {
        try await read { tx in
            try await tx.rows("SELECT id, body FROM sealedNotice WHERE toKey = ? ORDER BY id LIMIT \(Self.noticesPerPage)", [recipient]).map
            {
                SealedNotice(id: try $0.integer("id"), body: try $0.bytes("body"))
            }
        }
    }

    /// Forgets the notices `recipient` kept (only its own: another device's ids are ignored).
    func forgetNotices(_ ids: [Int64], for recipient: [UInt8]) async throws(DirectoryError) {
        guard !ids.isEmpty else { return }
        try await write { tx in
            for id in ids.prefix(Self.maximumNoticesWaiting) {
                try await tx.execute("DELETE FROM sealedNotice WHERE id = ? AND toKey = ?", [id, recipient])
            }
        }
    }
}
