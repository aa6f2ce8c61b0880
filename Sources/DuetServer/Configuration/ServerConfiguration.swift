import DuetWire

/// How a `duet server` is started (docs/server.md): where it listens and where it keeps data.
public struct ServerConfiguration: Sendable {
    /// Signaling (TCP + TLS).
    public var signaling: HostPort
    /// Media (one UDP port for STUN, DTLS, TURN and RTP).
    public var media: HostPort
    /// The IP devices must use for the media port, the relay and the SFU when the server sits
    /// behind a 1:1 NAT (`--public-address`); nil: the address they reached it at.
    public var publicAddress: String?
    /// The server's SQLite file, certificate and recordings live here.
    public var dataDirectory: String
    /// A postgres:// URL (`--database`): the directory lives there, shared with other nodes,
    /// instead of in the SQLite file (docs/deployment.md).
    public var database: String?
    /// Let any key claim any unbound number, and rebind numbers without an invite code.
    public var openRegistration: Bool
    /// A connection that has not authenticated this long after the challenge is closed, so
    /// idle or half-open TLS connections cannot pile up.
    public var loginTimeout: Duration = .seconds(15)
    /// A knock at a meeting the host has not answered in this long is turned away, so nobody
    /// waits at a door forever (and the host's door list does not grow stale).
    public var knockTimeout: Duration = .seconds(120)
    /// coturn serving as the relay (`--turn-secret`, `--turn-url`); nil: the built-in relay.
    public var coturn: CoturnRelay?
    /// Which peers the relay may reach (`RelayPeerPolicy`): public addresses only, unless the
    /// operator allows private ones (`--relay-allow-private`) or, for a server whose devices
    /// all run on its own host, loopback.
    public var relayPeers: RelayPeerPolicy = .standard
    /// Caps on signaling connections and on the replies queued for each.
    public var signalingLimits = SignalingLimits()
    /// Sees the media the server carries (the demo's and tests' audit); nil in `duet server`.
    public var mediaWitness: MediaWitness?

    public static let defaultSignaling = HostPort.loopback(port: 7400)
    public static let defaultMedia = HostPort.loopback(port: 7401)

    public init(
        signaling: HostPort = defaultSignaling, media: HostPort = defaultMedia, dataDirectory: String, openRegistration: Bool = false
    ) {
        self.signaling = signaling
        self.media = media
        self.dataDirectory = dataDirectory
        self.openRegistration = openRegistration
    }
}
