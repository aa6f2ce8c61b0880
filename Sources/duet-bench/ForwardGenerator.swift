import DuetWire
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The forwarding benches' load generator: made-up packets sent round-robin over many flows at
/// a set rate, from one thread, with nothing done per packet but a sendto. Everything costly
/// (SRTP protection, TURN framing) is done before the clock starts, so on two shared cores the
/// generator leaves the server its core.
///
/// Pacing: the thread keeps `rate × elapsed` packets sent, in bursts of at most `burst`, and
/// sleeps 100 µs whenever it is ahead. So the server sees a steady stream, not a flood, and
/// what it cannot take shows as its socket's kernel drops rather than as a backlog.
enum ForwardGenerator {
    /// One sender's packets, in sending order, to one destination. `repeats`: the packets may be
    /// sent again and again (relayed data); otherwise each goes once (SRTP packets: the server's
    /// replay check refuses a packet sent twice), and an exhausted flow falls silent.
    struct Flow: Sendable {
        let socket: LoopbackSocket
        let destination: TransportAddress
        let packets: [[UInt8]]
        let repeats: Bool
    }

    /// Packets sent so far, read by the bench at the edges of its measured window.
    final class Progress: Sendable {
        let sent = Atomic<Int>(0)
        /// Sends the kernel refused (the generator's own send buffer full).
        let refused = Atomic<Int>(0)
    }

    static let burst = 32

    /// Sends for `seconds` at `rate` packets a second over all flows together (round-robin);
    /// returns when done. Blocking: run it `onThread`.
    static func run(_ flows: [Flow], rate: Double, seconds: Double, progress: Progress) {
        guard !flows.isEmpty, rate > 0 else { return }
        var destinations = flows.map { LoopbackSocket.socketAddress($0.destination) }
        var cursors = [Int](repeating: 0, count: flows.count)
        // `turns` paces (a refused send or an exhausted flow's turn counts too, or the loop
        // would spin); `sent` is what the kernel took.
        var next = 0, turns = 0, sent = 0, refused = 0
        let started = ContinuousClock.now
        while true {
            let elapsed = ContinuousClock.now.seconds(since: started)
            guard elapsed < seconds else { break }
            let due = Int(elapsed * rate)
            if turns >= due {
                usleep(100)
                continue
            }
            for _ in 0..<min(due - turns, burst) {
                turns += 1
                let index = next
                next = next + 1 == flows.count ? 0 : next + 1
                let flow = flows[index]
                var cursor = cursors[index]
                if cursor == flow.packets.count {
                    guard flow.repeats else { continue }
                    cursor = 0
                }
                cursors[index] = cursor + 1
                if flow.packets[cursor].withUnsafeBytes({ flow.socket.send($0, to: &destinations[index]) }) {
                    sent += 1
                } else {
                    refused += 1
                }
            }
            progress.sent.store(sent, ordering: .relaxed)
            progress.refused.store(refused, ordering: .relaxed)
        }
        progress.sent.store(sent, ordering: .relaxed)
        progress.refused.store(refused, ordering: .relaxed)
    }
}
