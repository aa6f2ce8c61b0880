import DuetWire

/// A call socket bound ahead of the call, with its server-reflexive address already learned:
/// what lets a device answer an incoming call (or place one) without first waiting a round
/// trip for its STUN Binding — WebRTC's ICE candidate pool, of one. `CallEngine` keeps one
/// spare, asks again every `refreshInterval` (which also keeps the NAT's mapping alive), and
/// makes another once a call takes it. A spare is used only while it is fresh: learned
/// recently, with a server-reflexive address, on the interfaces the device still has.
struct GatheredSocket: Sendable {
    let socket: MediaSocket
    /// The server's media port (STUN), when known.
    let serverMedia: TransportAddress?
    let reflexive: TransportAddress?
    /// The interfaces' addresses when it was gathered.
    let hostAddresses: Set<[UInt8]>
    let gatheredAt: ContinuousClock.Instant

    static let refreshInterval = Duration.seconds(15)
    /// Older than this, a spare's mapping may have moved (a NAT keeps an idle UDP mapping for
    /// 30 s at the least, RFC 4787 REQ-5): it is gathered afresh instead.
    static let freshFor = Duration.seconds(25)

    /// Binds a socket and asks the server's media port (as login named it) for its mapping.
    static func gather(session: DeviceSession) async throws -> GatheredSocket {
        let socket = try await MediaSocket.bind()
        let node = await session.connection.node
        let serverMedia = await session.connection.mediaAddress.flatMap { ServerAddress.media($0, signaling: node) }
        return await learned(socket: socket, serverMedia: serverMedia)
    }

    /// The same socket, its mapping asked for again.
    func refreshed() async -> GatheredSocket {
        await Self.learned(socket: socket, serverMedia: serverMedia)
    }

    /// Usable for a call now.
    var isFresh: Bool {
        reflexive != nil && ContinuousClock.now - gatheredAt < Self.freshFor
            && Set(HostAddresses.current(includeLoopback: serverMedia?.isLoopback ?? false, includeIPv6: socket.carriesIPv6))
                == hostAddresses
    }

    static func learned(
        socket: MediaSocket, serverMedia: TransportAddress?, request: MappingRequest = MappingRequest(),
        patience: Patience = .untilAnswered
    ) async -> GatheredSocket {
        let hostAddresses = Set(HostAddresses.current(includeLoopback: serverMedia?.isLoopback ?? false, includeIPv6: socket.carriesIPv6))
        let reflexive: TransportAddress? =
            if let serverMedia {
                await CallTransport.serverReflexiveAddress(socket: socket, server: serverMedia, request: request, patience: patience)
            } else { nil }
        return GatheredSocket(
            socket: socket, serverMedia: serverMedia, reflexive: reflexive, hostAddresses: hostAddresses, gatheredAt: .now)
    }
}
