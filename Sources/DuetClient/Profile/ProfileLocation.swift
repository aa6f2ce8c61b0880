import Foundation

/// Where a profile (one device) keeps its files: `$DUET_HOME/<profile>` (README.md "Usage"), with
/// `DUET_HOME` defaulting to `$XDG_DATA_HOME/duet`, else `~/.local/share/duet`.
public struct ProfileLocation: Hashable, Sendable {
    public let name: String
    public let directory: URL

    /// Why a profile name was refused.
    public enum NameError: Error, Equatable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self {
            case let .invalid(name):
                "profile name '\(name)' is not allowed: use 1–32 letters, digits, '-' or '_'"
            }
        }
    }

    /// A profile under an explicit home folder (tests, `--data`-style overrides).
    public init(name: String, home: URL) throws(NameError) {
        let allowed = name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2d || c == 0x5f
        }
        guard allowed, (1...32).contains(name.utf8.count) else { throw .invalid(name) }
        self.name = name
        self.directory = home.appendingPathComponent(name, isDirectory: true)
    }

    /// A profile under the home folder the environment names.
    public init(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(NameError) {
        try self.init(name: name, home: Self.home(environment: environment))
    }

    /// `DUET_HOME`, else `$XDG_DATA_HOME/duet`, else `~/.local/share/duet`.
    public static func home(environment: [String: String]) -> URL {
        if let home = environment["DUET_HOME"], !home.isEmpty { return URL(fileURLWithPath: home, isDirectory: true) }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("duet", isDirectory: true)
        }
        let user =
            environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) } ?? FileManager.default.homeDirectoryForCurrentUser
        return user.appendingPathComponent(".local/share/duet", isDirectory: true)
    }

    /// The device store's SQLite file.
    public var storeFile: URL { directory.appendingPathComponent("device.sqlite") }
}
