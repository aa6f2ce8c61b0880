import DuetWire
import Synchronization

/// How many connections a listener has open, in all and per source, so that no one source —
/// and no crowd of them — can hold more of the server's memory than its share. Each accepted
/// connection is admitted before it is served and released when it ends.
final class ConnectionAdmissions: Sendable {
    /// Whom a connection counts against: an IPv4 address, or the /64 an IPv6 address is in (one
    /// host usually holds a whole /64); `nil` counts towards the total only.
    typealias Source = [UInt8]?

    private let maximum: Int
    private let perSource: Int
    private let counts = Mutex<(total: Int, bySource: [[UInt8]: Int])>((0, [:]))
    private let refusals = Mutex<(count: Int, logged: ContinuousClock.Instant?)>((0, nil))
    /// At most one log line about refusals per this long, however many there are.
    static let refusalLogInterval = Duration.seconds(10)

    init(maximum: Int, perSource: Int) {
        self.maximum = maximum
        self.perSource = perSource
    }

    /// The source `address` counts against; loopback counts against none unless `limitsLoopback`.
    static func source(of address: TransportAddress, limitsLoopback: Bool) -> Source {
        let address = address.unmappedIPv4 ?? address
        if address.isLoopback && !limitsLoopback { return nil }
        return address.ip.count == 4 ? address.ip : Array(address.ip.prefix(8))
    }

    /// Counts a new connection from `source`; false (and nothing counted) when either limit is reached.
    func admit(_ source: Source) -> Bool {
        counts.withLock { counts in
            guard counts.total < maximum else { return false }
            if let source {
                guard counts.bySource[source, default: 0] < perSource else { return false }
                counts.bySource[source, default: 0] += 1
            }
            counts.total += 1
            return true
        }
    }

    /// A connection `admit` counted has ended.
    func release(_ source: Source) {
        counts.withLock { counts in
            counts.total -= 1
            guard let source else { return }
            counts.bySource[source, default: 1] -= 1
            if counts.bySource[source] == 0 { counts.bySource[source] = nil }
        }
    }

    /// Counts a refused connection; returns how many were refused since the last line logged
    /// when another line is due, so a flood of connections does not flood the log too.
    func refused(now: ContinuousClock.Instant = .now) -> Int? {
        refusals.withLock { refusals in
            refusals.count += 1
            if let logged = refusals.logged, now - logged < Self.refusalLogInterval { return nil }
            defer { refusals = (0, now) }
            return refusals.count
        }
    }
}
