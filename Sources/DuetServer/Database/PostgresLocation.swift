import Foundation

/// A `--database postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`
/// URL, checked when the server starts so a typo is one clear line, not a connection that
/// never comes (docs/deployment.md).
struct PostgresLocation: Sendable, Equatable {
    enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String
    let tls: TLSMode

    /// Where it is, without the password: for log lines and error messages.
    var summary: String { "PostgreSQL \(user)@\(host):\(port)/\(database)" }

    init(parsing text: String) throws(ServerStartupError) {
        let usage = "give --database as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, e.g. postgres://duet@db.example.net/duet"
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw .configuration("--database is not a postgres:// URL; \(usage)")
        }
        guard let host = url.host, !host.isEmpty, let user = url.user, !user.isEmpty else {
            throw .configuration("--database names no host or no user; \(usage)")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw .configuration("--database names no database (the part after the host's /); \(usage)")
        }
        if let port = url.port, !(1...65535).contains(port) { throw .configuration("--database's port \(port) is not 1 to 65535") }
        var tls = TLSMode.prefer
        for item in url.queryItems ?? [] {
            guard item.name == "sslmode", let value = item.value, let mode = TLSMode(rawValue: value) else {
                throw .configuration("--database takes only sslmode=disable, prefer or require after '?', not '\(item.name)'")
            }
            tls = mode
        }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user
        self.password = url.password
        self.database = database
        self.tls = tls
    }
}
