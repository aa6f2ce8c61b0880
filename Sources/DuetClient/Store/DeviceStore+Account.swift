import DuetWire
import Foundation
import GRDB

/// Who this device is on which server, once registered.
public struct AccountRecord: Equatable, Sendable {
    public var number: String?
    public var displayName: String?
    public var server: HostPort?
    /// SHA-256 fingerprint of the server's certificate, pinned on first connection.
    public var serverFingerprint: String?
    public var registeredAt: Date?

    public init(
        number: String? = nil, displayName: String? = nil, server: HostPort? = nil, serverFingerprint: String? = nil,
        registeredAt: Date? = nil
    ) {
        self.number = number
        self.displayName = displayName
        self.server = server
        self.serverFingerprint = serverFingerprint
        self.registeredAt = registeredAt
    }
}

extension DeviceStore {
    /// The account settings (empty before `duet register`).
    public func account() throws(DeviceStoreError) -> AccountRecord {
        let row = try read { db in try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = 1") }
        guard let row else { return AccountRecord() }
        let server: String? = row["server"]
        return AccountRecord(
            number: row["number"], displayName: row["displayName"],
            server: server.flatMap { try? HostPort(parsing: $0) },
            serverFingerprint: row["serverFingerprint"],
            registeredAt: (row["registeredAt"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    /// Replaces the account settings.
    public func saveAccount(_ account: AccountRecord) throws(DeviceStoreError) {
        try write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO account (id, number, displayName, server, serverFingerprint, registeredAt)
                    VALUES (1, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    account.number, account.displayName, account.server?.description,
                    account.serverFingerprint, account.registeredAt?.timeIntervalSince1970
                ])
        }
    }
}
