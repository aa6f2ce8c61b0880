import Foundation
import NetworkLab
import Synchronization

/// Call setup across namespaced hosts (docs/testing.md "Across namespaced hosts"): Alice and Bob each behind a cone
/// NAT, the server on the far side of a delay line adding `roundTrip` between the NATs and the
/// server, the real `duet` binaries (release, beside this one) in each namespace. The figure is
/// what `duet call` prints — dial to the first audio heard — so it counts every round trip the
/// protocol makes: bundle fetch, relay credentials, the STUN Binding, the invitation and answer
/// through the server, the checks, key confirmation. `call_setup_vs_rtt` divides it by the
/// added round trip (the loopback cost is measured by `call_setup_ms` in the same run). Then
/// `netchange_gap_ms`: the audio gap when Alice's device moves to another network mid-call.
enum NetnsCallBench {
    static let roundTrip = Duration.milliseconds(40)
    static let calls = 15

    static func run(report: BenchReport) async {
        if let reason = NetworkLab.unavailableReason {
            print("call_setup_netns_skipped 1 flag  # \(reason)")
            return
        }
        do {
            let (setups, gaps) = try await measure()
            let median = Timing.median(setups)
            report.figure("call_setup_netns_ms", median, unit: "ms")
            report.figure("call_setup_vs_rtt", median / 40, unit: "ratio")
            report.figure("netchange_gap_ms", Timing.median(gaps), unit: "ms")
        } catch {
            print("call_setup_netns_error 1 error  # \(error)")
        }
    }

    /// Network changes in one call: Alice's home network goes down and a hotspot's (another
    /// cone NAT on the same side of the delay line) comes up, then back, and so on.
    static let moves = 3

    private static func measure() async throws -> (setups: [Double], gaps: [Double]) {
        let lab = try NetworkLab()
        defer { lab.tearDown() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-netns-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let homes = try lab.segment(), serverSide = try lab.segment()
        let delay = try lab.delayLine("delay", between: homes, and: serverSide, oneWay: roundTrip / 2)
        defer { delay.stop() }
        let serverHost = try lab.host("server", on: serverSide, address: "203.0.113.10/24")
        var devices: [NetworkLab.Host] = []
        for (index, (gateway, address)) in [("192.0.2.1/25", "192.0.2.10/25"), ("198.51.100.1/25", "198.51.100.10/25")].enumerated() {
            let lan = try lab.segment()
            _ = try lab.natRouter(
                "router\(index)", kind: .cone, outside: homes, outsideAddress: "203.0.113.\(21 + index)/24", inside: lan,
                insideAddress: gateway)
            devices.append(try lab.host("device\(index)", on: lan, address: address, gateway: String(gateway.split(separator: "/")[0])))
        }
        let server = try Child(
            ["server", "--listen", "0.0.0.0:7400", "--media", "0.0.0.0:7401", "--data", home.appendingPathComponent("server").path],
            home: home, in: serverHost)
        defer { server.stop() }
        guard await server.waitFor("certificate") else { throw BenchFailure("the server did not start: \(server.output)") }
        for (profile, number, host) in [("alice", "+15557301", devices[0]), ("bob", "+15557302", devices[1])] {
            let registered = try Child(["register", number, "--profile", profile, "--server", "203.0.113.10:7400"], home: home, in: host)
            guard await registered.waitForExit() == 0 else { throw BenchFailure("register \(profile): \(registered.output)") }
        }
        let answering = try Child(["bot", "tone", "--profile", "bob"], home: home, in: devices[1])
        defer { answering.stop() }
        guard await answering.waitFor("answering calls") else { throw BenchFailure("bob: \(answering.output)") }
        var setups: [Double] = []
        for round in 0..<(calls + 1) {  // the first round warms up
            let calling = try Child(["call", "+15557302", "--profile", "alice", "--duration", "1s"], home: home, in: devices[0])
            guard await calling.waitForExit() == 0,
                let line = calling.output.split(separator: "\n").first(where: { $0.hasPrefix("setup ") }),
                let ms = Double(line.split(separator: " ")[1])
            else { throw BenchFailure("alice: \(calling.output)") }
            guard calling.output.contains("state connected (p2p)") else { throw BenchFailure("not p2p: \(calling.output)") }
            if round > 0 { setups.append(ms) }
        }
        let gaps = try await moveMidCall(lab: lab, alice: devices[0], beside: homes, home: home)
        return (setups, gaps)
    }

    /// The audio gap Alice hears each time her device moves between two networks mid-call
    /// (`media back after N ms`: from the last packet heard before to the first after).
    private static func moveMidCall(lab: NetworkLab, alice: NetworkLab.Host, beside homes: NetworkLab.Segment, home: URL) async throws
        -> [Double]
    {
        let hotspot = try lab.segment()
        _ = try lab.natRouter(
            "hotspot", kind: .cone, outside: homes, outsideAddress: "203.0.113.23/24", inside: hotspot,
            insideAddress: "198.51.100.129/25")
        try lab.addInterface("eth1", to: alice, on: hotspot, address: "198.51.100.140/25")
        try lab.run(["ip", "link", "set", "eth1", "down"], in: alice)
        let calling = try Child(["call", "+15557302", "--profile", "alice", "--duration", "\(6 * moves + 4)s"], home: home, in: alice)
        defer { calling.stop() }
        guard await calling.waitFor("hearing +15557302") else { throw BenchFailure("alice: \(calling.output)") }
        let ways = [("eth0", "eth1", "198.51.100.129"), ("eth1", "eth0", "192.0.2.1")]
        var gaps: [Double] = []
        for move in 0..<moves {
            let (from, to, gateway) = ways[move % 2]
            try lab.run(["ip", "link", "set", to, "up"], in: alice)
            try lab.run(["ip", "link", "set", from, "down"], in: alice)
            try lab.run(["ip", "route", "replace", "default", "via", gateway], in: alice)
            let back = { calling.output.split(separator: "\n").filter { $0.hasPrefix("media back after ") } }
            for _ in 0..<400 where back().count <= move { try? await Task.sleep(for: .milliseconds(25)) }
            guard back().count > move, let ms = Double(back()[move].split(separator: " ")[3]) else {
                throw BenchFailure("alice did not hear Bob again after move \(move + 1): \(calling.output)")
            }
            gaps.append(ms)
            try? await Task.sleep(for: .seconds(3))
        }
        return gaps
    }

    struct BenchFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// A `duet` process inside a namespace, its output collected.
    final class Child: Sendable {
        private let process = Process()
        private let text = Output()

        /// What the process printed; the pipe's handler appends from its own thread.
        private final class Output: Sendable {
            let value = Mutex<String>("")
        }

        init(_ arguments: [String], home: URL, in host: NetworkLab.Host) throws {
            let duet = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("duet")
            let command = NetworkLab.command([duet.path] + arguments, in: host.namespace)
            process.executableURL = command.executable
            process.arguments = command.arguments
            process.environment = ProcessInfo.processInfo.environment.merging(["DUET_HOME": home.path]) { $1 }
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            pipe.fileHandleForReading.readabilityHandler = { [text] handle in
                let chunk = handle.availableData
                if !chunk.isEmpty { text.value.withLock { $0 += String(decoding: chunk, as: UTF8.self) } }
            }
            try process.run()
        }

        var output: String { text.value.withLock { $0 } }

        func waitFor(_ fragment: String) async -> Bool {
            for _ in 0..<400 where !output.contains(fragment) { try? await Task.sleep(for: .milliseconds(25)) }
            return output.contains(fragment)
        }

        func waitForExit() async -> Int32? {
            for _ in 0..<1200 where process.isRunning { try? await Task.sleep(for: .milliseconds(25)) }
            guard !process.isRunning else { return nil }
            try? await Task.sleep(for: .milliseconds(50))
            return process.terminationStatus
        }

        func stop() {
            guard process.isRunning else { return }
            process.interrupt()
            process.waitUntilExit()
        }
    }
}
