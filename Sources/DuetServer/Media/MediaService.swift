import DuetWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The media UDP port (DESIGN §4). It is bound from the first start so the address is
/// reserved and printed, but until the relay, SFU and meetings arrive (issue [4/9]) it only
/// counts and drops what it receives; it never answers.
final class MediaService: Service, Sendable {
    typealias Datagram = AddressedEnvelope<ByteBuffer>
    private let socket: NIOAsyncChannel<Datagram, Datagram>
    private let logger: Logger
    let address: HostPort

    static func bind(_ address: HostPort, logger: Logger) async throws(ServerStartupError) -> MediaService {
        do {
            let socket = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<Datagram, Datagram>(wrappingChannelSynchronously: channel) }
                }
            let port = socket.channel.localAddress?.port ?? address.port
            return MediaService(socket: socket, logger: logger, address: HostPort(host: address.host, port: port))
        } catch {
            throw .bind(what: "media", address: address.description, reason: "\(error)")
        }
    }

    private init(socket: NIOAsyncChannel<Datagram, Datagram>, logger: Logger, address: HostPort) {
        self.socket = socket
        self.logger = logger
        self.address = address
    }

    func run() async throws {
        let socket = self.socket
        let logger = self.logger
        try await withGracefulShutdownHandler {
            try await socket.executeThenClose { inbound, _ in
                var dropped = 0
                for try await datagram in inbound {
                    dropped += 1
                    if dropped == 1 {
                        logger.notice("media: dropping datagrams; this server does not relay media yet", metadata: ["from": "\(datagram.remoteAddress)"])
                    }
                }
            }
        } onGracefulShutdown: {
            socket.channel.close(promise: nil)
        }
    }
}
