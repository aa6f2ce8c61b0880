import DuetServer
import DuetWire
import Synchronization

/// What the demo's server carried, as its `MediaWitness` saw it: relayed datagrams and the
/// frames its SFU routed. The ciphertext checks read it. Each log keeps the newest `cap`
/// entries (a long story's memory stays flat) and counts from the start, so a mark taken
/// early still means the same datagram later.
final class WireLog: Sendable {
    struct Routed: Sendable {
        let room: SFURoomID
        let participant: String
        let payload: [UInt8]
        /// A camera's packet (VP8, or a group call's SFrame'd video), not a voice's.
        let isVideo: Bool
    }

    /// The newest entries of one kind, and how many older ones were dropped.
    struct Window<Entry: Sendable>: Sendable {
        var entries: [Entry] = []
        var dropped = 0

        mutating func append(_ entry: Entry, cap: Int) {
            entries.append(entry)
            // Drop in chunks so appending stays cheap.
            if entries.count > cap + cap / 4 {
                let excess = entries.count - cap
                entries.removeFirst(excess)
                dropped += excess
            }
        }

        var total: Int { dropped + entries.count }

        func since(_ mark: Int) -> ArraySlice<Entry> {
            entries[min(max(mark - dropped, 0), entries.count)...]
        }
    }

    static let cap = 20_000
    private let relayedDatagrams = Mutex(Window<[UInt8]>())
    private let routedFrames = Mutex(Window<Routed>())

    var witness: MediaWitness {
        MediaWitness(
            relayed: { [weak self] datagram in
                self?.relayedDatagrams.withLock { $0.append(datagram, cap: Self.cap) }
            },
            routed: { [weak self] room, participant, packet in
                let routed = Routed(
                    room: room, participant: participant, payload: packet.payload, isVideo: packet.payloadType == RTPPayloadType.vp8)
                self?.routedFrames.withLock { $0.append(routed, cap: Self.cap) }
            })
    }

    /// Datagrams relayed so far (a mark for `relayed(since:)`).
    var relayedCount: Int { relayedDatagrams.withLock { $0.total } }

    func relayed(since mark: Int = 0) -> [[UInt8]] {
        relayedDatagrams.withLock { Array($0.since(mark)) }
    }

    /// The routed frames kept for which `include` holds, oldest first.
    func routed(where include: (Routed) -> Bool) -> [Routed] {
        routedFrames.withLock { $0.entries.filter(include) }
    }

    /// The first room a kept frame was routed in that `match` picks out.
    func firstRoom(where match: (SFURoomID) -> Bool) -> SFURoomID? {
        routedFrames.withLock { $0.entries.first { match($0.room) }?.room }
    }

    /// The last `count` voice payloads `participant` sent in `room`, oldest first.
    func lastRouted(_ count: Int, room: SFURoomID, participant: String) -> [[UInt8]] {
        routedFrames.withLock { window in
            var found: [[UInt8]] = []
            for frame in window.entries.reversed() where frame.room == room && frame.participant == participant && !frame.isVideo {
                found.append(frame.payload)
                if found.count == count { break }
            }
            return found.reversed()
        }
    }
}
