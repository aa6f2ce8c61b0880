import DuetCrypto
import Foundation
import GRDB

extension DeviceStore {
    /// How long a signed prekey is published before it is replaced: a week (docs/SECURITY.md).
    public static let signedPrekeyLifetime: TimeInterval = 7 * 24 * 3600

    /// The signed prekey this device should publish now, rotated first if the current one is a
    /// week old (the previous one is kept for calls set up just before).
    public func signedPrekeyToPublish(now: Date = Date()) throws(DeviceStoreError) -> SignedPrekey {
        let current = try currentSignedPrekey()
        guard now.timeIntervalSince(current.publicPart.createdAt) >= Self.signedPrekeyLifetime else { return current }
        return try rotateSignedPrekey(now: now)
    }

    /// Whether `server` was last given signed prekey `id` (so it need not be sent again).
    public func hasPublishedSignedPrekey(_ id: UInt32, to server: String) throws(DeviceStoreError) -> Bool {
        try read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'publishedSignedPrekey'") == Self.publishedMarker(id, server)
        }
    }

    /// Records that `server` now holds signed prekey `id`.
    public func notePublishedSignedPrekey(_ id: UInt32, to server: String) throws(DeviceStoreError) {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('publishedSignedPrekey', ?)",
                arguments: [Self.publishedMarker(id, server)])
        }
    }

    private static func publishedMarker(_ id: UInt32, _ server: String) -> Data { Data("\(id) \(server)".utf8) }
}
