import DuetWire
import Logging
import Synchronization

/// One connection's replies and notices on their way to its socket, bounded in bytes. The
/// server writes through NIO, whose writer waits while the socket is not writable; what waits
/// meanwhile is held here, encoded, and counted. A frame that would take the queue past its
/// limit means the client does not read what it asks for: nothing more is queued and the
/// connection is closed, so a client that never reads holds at most `limit` bytes. Frames wait
/// as their JSON bodies (the pipeline's `SignalingFrameEncoder` adds the length prefix), but are
/// counted as they will be on the wire, prefix included.
final class SignalingOutbox: Sendable {
    /// The encoded frame bodies, oldest first, for the connection's writer.
    let frames: AsyncStream<[UInt8]>
    private let sink: AsyncStream<[UInt8]>.Continuation
    private let limit: Int
    private let meter: OutboxMeter
    private let close: @Sendable () -> Void
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var queued = 0
        var peak = 0
        var closed = false
    }

    /// `close` ends the connection; `logger` says why when the outbox closes it. The limit is
    /// at least one largest frame, which a client that reads must always be able to receive.
    init(limit: Int, meter: OutboxMeter, logger: Logger, close: @escaping @Sendable () -> Void) {
        (frames, sink) = AsyncStream.makeStream(of: [UInt8].self)
        self.limit = max(limit, 4 + FrameDecoder.maximumFrameLength)  // the length prefix and the largest body
        self.meter = meter
        self.logger = logger
        self.close = close
    }

    /// Queues `frame`, or closes the connection if it cannot be encoded or does not fit.
    func send(_ frame: ServerFrame) {
        guard let bytes = Self.encode(frame) else {
            shut("a reply over the \(FrameDecoder.maximumFrameLength)-byte frame limit")
            return
        }
        send(encoded: bytes)
    }

    /// Queues an already encoded message, from `encode(_:)` (one encoding for many recipients).
    func send(encoded bytes: [UInt8]) {
        let size = Self.wireSize(bytes)
        let overflow = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            guard state.queued + size <= limit else {
                state.closed = true
                return state.queued
            }
            state.queued += size
            state.peak = max(state.peak, state.queued)
            sink.yield(bytes)
            return nil
        }
        if let overflow {
            sink.finish()
            logger.warning(
                "closing a connection that does not read its replies",
                metadata: [
                    "queued": "\(overflow)", "next": "\(size)", "limit": "\(limit)"
                ])
            close()
        }
    }

    /// The writer handed `body`, one of `frames`, to the socket.
    func didWrite(_ body: [UInt8]) {
        let size = Self.wireSize(body)
        state.withLock { $0.queued -= size }
    }

    /// No more frames: the connection is ending. Reports the queue's peak to the meter.
    func finish() {
        sink.finish()
        let peak = state.withLock { state in
            state.closed = true
            return state.peak
        }
        meter.record(peak: peak)
    }

    /// Closes the connection (a graceful shutdown).
    func closeConnection() {
        close()
    }

    private func shut(_ reason: String) {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        sink.finish()
        logger.error("closing the connection", metadata: ["reason": "\(reason)"])
        close()
    }

    /// The frame's JSON body; nil if it is over the frame limit (no prefix can be made for it).
    static func encode(_ frame: ServerFrame) -> [UInt8]? {
        let body = frame.frameBody
        return (try? FrameDecoder.prefix(forBodyOf: body.count)) == nil ? nil : body
    }

    /// What a body takes on the wire, length prefix included.
    private static func wireSize(_ body: [UInt8]) -> Int {
        FrameDecoder.prefixLength + body.count
    }
}

/// The largest reply queue any connection has held, over the server's run. A client that does
/// not read must never hold more than its limit; tests read this to check it.
final class OutboxMeter: Sendable {
    private let largest = Mutex(0)

    func record(peak: Int) {
        largest.withLock { $0 = max($0, peak) }
    }

    var peakBytes: Int { largest.withLock { $0 } }
}
