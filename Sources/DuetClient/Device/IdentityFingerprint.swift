/// This device's identity fingerprint in the forms people compare by eye (docs/ARCHITECTURE.md
/// "Identity fingerprint"): given to screens as text, so they show it without key types.
public struct IdentityFingerprint: Sendable, Hashable, CustomStringConvertible {
    /// 8 groups of 4 hex digits (`keys show`, the keys pane).
    public let full: String
    /// The first two groups, for status bars.
    public let short: String

    public init(full: String, short: String) {
        self.full = full
        self.short = short
    }

    public var description: String { full }
}
