import DuetClient
import DuetWire
import Foundation

/// Duet's relay against coturn (docs/performance.md "Relay against coturn"):
/// the same relayed-call load as `ForwardBench`'s — `ForwardBench.calls` calls, one allocation
/// and channel each, the same packets both ways at the same rate, made by the same `RelayClient`
/// code — through the Duet server's process and through coturn's, both running at once, in
/// rounds that alternate which goes first (Duet, coturn, coturn, Duet). The figure is the CPU
/// time per relayed packet each process was charged with (/proc, coturn's every thread), as a
/// ratio Duet / coturn: 1.0 or less means Duet relays as cheaply as coturn.
enum RelayCoturnBench {
    static let rounds = 4

    static func run(report: BenchReport) async {
        guard CoturnProcess.isInstalled else {
            print("relay_cpu_vs_coturn skipped  # coturn is not installed at \(CoturnProcess.executable) (make deps installs it)")
            return
        }
        // Four calls a number, under the relay's quota of allocations per number.
        await BenchDevices.withServer("relay_vs_coturn", devices: (ForwardBench.calls + 3) / 4, prefix: "+1555840") {
            server, _, sessions in
            let turn = try CoturnProcess()
            defer { turn.stop() }
            var duetClients: [RelayClient] = []
            for index in 0..<ForwardBench.calls {
                let credentials = try await sessions[index / 4].connection.relayCredentials(callID: "coturn-\(index)")
                duetClients.append(credentials.makeRelayClient())
            }
            let duet = try await RelayLoad.make(server: try ForwardBench.mediaAddress(server), clients: duetClients)
            defer { duet.receivers.stop() }
            let other = try await RelayLoad.make(
                server: turn.address, clients: (0..<ForwardBench.calls).map { _ in turn.makeRelayClient() })
            defer { other.receivers.stop() }
            let serverPID = server.process.processIdentifier, coturnPID = turn.process.processIdentifier
            show(
                try await compare(duet, { ProcessCPU.seconds(of: serverPID) }, other, { ProcessCPU.seconds(of: coturnPID) }), report: report
            )
        }
    }

    /// The rate is chosen as `ForwardBench` chooses it for the relay, on Duet's relay (probed,
    /// then settled where it keeps up); coturn gets the same. Each server's window of every round.
    static func compare(
        _ duet: RelayLoad, _ duetCPU: @escaping @Sendable () -> Double, _ coturn: RelayLoad, _ coturnCPU: @escaping @Sendable () -> Double
    ) async throws -> (ours: [ForwardWindow], theirs: [ForwardWindow]) {
        let capacity = try await ForwardMeasure.probe(duet, floodRate: ForwardBench.relayFlood, cpu: duetCPU)
        guard capacity > 0 else { throw CallSetupBench.BenchFailure("nothing was relayed while probing") }
        let rate = try await ForwardMeasure.settle(duet, probed: capacity, cpu: duetCPU)
        // Four rounds each of a quarter of the window: as much measured time per server as
        // `ForwardBench`'s window, in slices.
        let seconds = ForwardMeasure.seconds / 4, warmup = 0.25
        var ours: [ForwardWindow] = [], theirs: [ForwardWindow] = []
        for round in 0..<rounds {
            let duetFirst = round % 3 == 0  // Duet first in rounds 0 and 3, coturn in 1 and 2
            for turn in 0..<2 {
                if (turn == 0) == duetFirst {
                    ours.append(try await ForwardMeasure.run(duet, rate: rate, warmup: warmup, seconds: seconds, cpu: duetCPU))
                } else {
                    theirs.append(try await ForwardMeasure.run(coturn, rate: rate, warmup: warmup, seconds: seconds, cpu: coturnCPU))
                }
            }
        }
        return (ours, theirs)
    }

    /// CPU nanoseconds per relayed packet over a window.
    static func cost(_ window: ForwardWindow) -> Double { window.serverCPU / Double(max(1, window.delivered)) * 1e9 }

    /// Every figure is over all rounds together, the ratio too: /proc counts CPU in 10 ms ticks,
    /// and coturn spends only tens of them in one round's window, too few for a ratio per round.
    static func show(_ rounds: (ours: [ForwardWindow], theirs: [ForwardWindow]), report: BenchReport) {
        let ours = rounds.ours.reduce(ForwardWindow(), +), theirs = rounds.theirs.reduce(ForwardWindow(), +)
        let valid = ours.packetsPerCPUSecond > 0 && theirs.packetsPerCPUSecond > 0
        report.figure("relay_cpu_vs_coturn", valid ? cost(ours) / cost(theirs) : .nan, unit: "ratio")
        report.figure("relay_duet_ns_per_packet", cost(ours), unit: "ns")
        report.figure("relay_coturn_ns_per_packet", cost(theirs), unit: "ns")
        for (name, window) in [("duet", ours), ("coturn", theirs)] {
            report.figure("relay_\(name)_pps", window.deliveredPerSecond, unit: "pps")
            report.figure("relay_\(name)_offered_pps", window.expectedPerSecond, unit: "pps")
            report.figure("relay_\(name)_cpu_pct", window.serverCPUPercent, unit: "%")
            report.figure("relay_\(name)_server_drops", Double(window.serverDrops), unit: "datagrams")
            report.figure("relay_\(name)_receiver_drops", Double(window.receiverDrops), unit: "datagrams")
            if window.failed > 0 || window.verified == 0 {
                print("# relay_\(name): \(window.verified) sampled packets verified, \(window.failed) failed: no ratio")
            }
        }
    }
}
