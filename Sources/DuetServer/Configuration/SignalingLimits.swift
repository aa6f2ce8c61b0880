/// How much of the server's memory signaling clients may hold (docs/server.md "Memory per
/// connection"). Every connection costs a TLS session and a queue of replies, so both the
/// number of connections and each queue are bounded; a client that does not read its replies
/// is disconnected rather than buffered for.
public struct SignalingLimits: Sendable {
    /// Signaling connections open at once, in all; more are closed as they arrive.
    public var maximumConnections = 1_000
    /// Signaling connections open at once from one IPv4 address or one IPv6 /64.
    public var maximumConnectionsPerAddress = 64
    /// Whether connections from loopback count towards `maximumConnectionsPerAddress`. They come
    /// from the server's own host (the load bench, the demo, an operator's tools), which needs
    /// no protection from itself; they still count towards `maximumConnections`.
    public var limitsLoopback = false
    /// Encoded replies and notices (bytes) waiting for one connection's socket. A client whose
    /// queue would grow past this does not read, and is disconnected.
    public var outboxBytes = 256 * 1024
    /// Sealed notices (missed calls) one source address may leave at once; then one a minute.
    /// Numbers are free to take, so a limit per key alone would not stop a flood.
    public var noticeBurst = 20

    public init() {}
}
