import DuetWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The TLS signaling listener as a lifecycle service. Bound before `run()`, so the caller can
/// print the real address (port 0 in tests) before anything is served.
final class SignalingService: Service, Sendable {
    /// A device's connection, as the pipeline's signaling handlers hand it over: requests in
    /// (or why a frame's JSON could not be read), frame bodies out.
    typealias Connection = NIOAsyncChannel<Result<ClientRequest, SignalingDecodingError>, ByteBuffer>
    private let listener: NIOAsyncChannel<Connection, Never>
    private let context: SignalingContext
    private let admissions: ConnectionAdmissions
    let address: HostPort

    static func bind(_ address: HostPort, tls: NIOSSLContext, context: SignalingContext) async throws(ServerStartupError)
        -> SignalingService
    {
        do {
            let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        try channel.pipeline.syncOperations.addSignalingHandlers(receiving: ClientRequest.self)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
            let port = listener.channel.localAddress?.port ?? address.port
            return SignalingService(listener: listener, context: context, address: HostPort(host: address.host, port: port))
        } catch {
            throw .bind(what: "signaling", address: address.description, reason: "\(error)")
        }
    }

    private init(listener: NIOAsyncChannel<Connection, Never>, context: SignalingContext, address: HostPort) {
        self.listener = listener
        self.context = context
        self.address = address
        admissions = ConnectionAdmissions(
            maximum: context.limits.maximumConnections, perSource: context.limits.maximumConnectionsPerAddress)
    }

    /// Releases the port when startup fails after binding it.
    func closeUnstarted() async throws {
        try await listener.channel.close()
    }

    func run() async throws {
        let listener = self.listener
        let context = self.context
        try await withGracefulShutdownHandler {
            try await listener.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    if let stopped = context.recordings?.stopped {
                        // Recordings the server had to stop (a full disk): their meetings are told.
                        group.addTask { for await stop in stopped { await MeetingSignaling(context: context).recordingStopped(stop) } }
                    }
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            context.logger.info("signaling: shutting down")
            listener.channel.close(promise: nil)
            Task { await context.switchboard.closeAll() }
        }
    }

    /// Serves `connection` if the caps leave room for it; else closes it before its TLS
    /// handshake, which would cost the server more than the refusal.
    private func serve(_ connection: Connection) async {
        let channel = connection.channel
        let remote = channel.remoteAddress.flatMap(TransportAddress.init)
        let source = remote.flatMap { ConnectionAdmissions.source(of: $0, limitsLoopback: context.limits.limitsLoopback) }
        guard admissions.admit(source) else {
            if let count = admissions.refused() {
                context.logger.warning(
                    "refusing signaling connections: too many open",
                    metadata: [
                        "refused": "\(count)", "latest": "\(remote.map { "\($0)" } ?? "?")",
                        "maximum": "\(context.limits.maximumConnections)", "perAddress": "\(context.limits.maximumConnectionsPerAddress)"
                    ])
            }
            // Closed through the wrapper, which finishes its writer: a wrapper dropped unfinished traps.
            try? await connection.executeThenClose { _, _ in }
            return
        }
        defer { admissions.release(source) }
        await SignalingConnection(context: context.seen(at: channel.localAddress)).run(connection)
    }
}
