import DuetMedia
import DuetWire
import Foundation

/// A group call's or a meeting's media on this device: one `ServerMediaLeg` to the SFU and
/// the `MediaPump` behind it. The leg may be replaced by its successor (the device moved, the
/// handshake failed) while the pump — SSRC, packet numbering, streams — goes on. The two
/// engines differ only in how a frame is sealed and opened, and what they make of the news.
/// Owned by one engine's actor; not thread-safe alone.
final class SFUMedia {
    private(set) var leg: ServerMediaLeg
    let pump: MediaPump
    /// A successor leg is being set up.
    var rebuilding = false

    /// What the leg says, for the engine to act on.
    enum News {
        /// The handshake completed (over `route`): media flows.
        case connected(route: String)
        case failed(String)
        case notice(String)
        /// The leg is done for: the engine binds a socket and calls `replaceLeg`.
        case rebuild(String)
    }

    init(leg: ServerMediaLeg, pump: MediaPump) {
        self.leg = leg
        self.pump = pump
    }

    /// Reads the leg's datagrams into `driver`, starts the clock and the handshake.
    func start(_ driver: some MediaPumpDriver) -> [News] {
        pump.read(into: driver) { leg.deliver(to: $0) }
        pump.startClock(driver)
        return take(leg.start())
    }

    /// `successor` takes over from the current leg, which closes; the pump waits for its keys.
    func replaceLeg(with successor: ServerMediaLeg, _ driver: some MediaPumpDriver) -> [News] {
        leg.close()
        leg = successor
        pump.dropKeys()
        pump.read(into: driver) { successor.deliver(to: $0) }
        return take(successor.start())
    }

    /// One datagram from the leg's socket or relay stream: DTLS to the leg, media into the pump
    /// (opened by `open`); anything else, or not from the SFU, is dropped.
    func receive(_ datagram: MediaSocket.Datagram, open: (RTPPacket) -> MediaPump.OpenedFrame?) -> [News] {
        guard let bytes = leg.accept(datagram) else { return [] }
        switch pump.receive(bytes, open: open) {
        case let .dtls(record): return take(leg.receiveDTLS(record))
        case .media, .unclaimed, .video, .rtcp: leg.heard()
        case .stun, .dropped: break
        }
        return []
    }

    /// Every frame time: the leg's timers and news, then (when `sends`, and the leg is up) the
    /// frames due, sealed by `seal`, and one frame of every stream played.
    func tick(sends: Bool, seal: (([UInt8]) throws -> [UInt8])?) -> [News] {
        var news = leg.tick().flatMap(take)
        if sends, leg.isConnected {
            do { try pump.sendDueFrames(seal: seal) { leg.route.send($0) } } catch { news.append(.failed("sending a frame: \(error)")) }
        }
        pump.playout()
        return news
    }

    /// The leg's outcome made news; its keys go to the pump.
    private func take(_ outcome: ServerMediaLeg.Outcome?) -> [News] {
        switch outcome {
        case let .connected(sending, receiving):
            pump.useKeys(sending: sending, receiving: receiving)
            return [.connected(route: leg.route.label)]
        case let .failed(reason): return [.failed(reason)]
        case let .notice(text): return [.notice(text)]
        case let .rebuild(reason): return [.rebuild(reason)]
        case let .disconnected(reason):
            pump.dropKeys()
            return [.failed(reason)]
        case nil: return []
        }
    }

    /// The pump stops (keys and streams released), the leg closes with its socket.
    func close() {
        pump.stop()
        leg.close()
    }
}
