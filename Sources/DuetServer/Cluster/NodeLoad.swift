import Foundation
import Synchronization

/// What a node carries, sent with each heartbeat (docs/deployment.md "Nodes"): rooms are
/// placed on the node with the fewest.
struct NodeLoad: Sendable {
    var rooms = 0
    var legs = 0
    /// Thousandths of one core since the last heartbeat.
    var cpuPermille = 0
}

/// This process's CPU use between two readings, from getrusage (every thread together).
final class CPUMeter: Sendable {
    private let last = Mutex<(cpu: Double, at: ContinuousClock.Instant)?>(nil)

    /// The share of one core used since the last reading, in thousandths (0 the first time).
    func permilleSinceLastReading() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        let now = ContinuousClock.now
        let previous = last.withLock { last in
            defer { last = (cpu, now) }
            return last
        }
        guard let previous else { return 0 }
        let elapsed = now - previous.at
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return wall > 0 ? Int((cpu - previous.cpu) / wall * 1000) : 0
    }
}
