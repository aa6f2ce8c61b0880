/// Something a device or one of its engines tells its user that is not a call's own progress:
/// typed, so a screen decides how to show it by its kind and severity, never by its words.
public struct Notice: Sendable, Equatable, CustomStringConvertible {
    /// How much it matters to the person using the device.
    public enum Severity: Sendable, Equatable {
        /// Worth a line in the log.
        case info
        /// Something is wrong or unsafe, but the device goes on.
        case warning
    }

    /// What it is about.
    public enum Kind: Sendable, Equatable {
        /// A contact's identity key is not the one last seen: verify the safety number again.
        case identityKeyChanged(number: String)
        /// A call, key or signal was refused (it did not authenticate, was replayed, or came
        /// from someone this device does not take it from).
        case refused
        /// This device keeps its sender key from a member it cannot vouch for.
        case keyWithheld(member: String)
        /// The way media travels: legs, relays, restarts, sockets, frames.
        case media
        /// The connection to the server.
        case server
        /// A group's membership or founding.
        case group
        /// This device's prekeys on the server.
        case prekeys
        /// The server's recording of a meeting.
        case recording
        /// Someone called while this device was away (a sealed notice, docs/history.md).
        case missedCall(number: String)
        /// The device's call history could not be written.
        case history
    }

    public let kind: Kind
    public let severity: Severity
    /// What a person reads.
    public let text: String

    public init(_ kind: Kind, _ severity: Severity, _ text: String) {
        self.kind = kind
        self.severity = severity
        self.text = text
    }

    /// A warning about `kind`.
    public static func warning(_ kind: Kind, _ text: String) -> Notice { Notice(kind, .warning, text) }

    public var description: String { text }
}
