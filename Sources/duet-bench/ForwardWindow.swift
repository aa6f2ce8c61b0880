import Foundation

/// A load the forwarding benches drive through a server process: the sockets that receive what
/// it forwards, and packets for the generator.
protocol ForwardLoad: AnyObject {
    /// Copies the server sends for each packet the generator sends: 31 in a 32-member room, 1
    /// through the relay.
    var fanout: Int { get }
    var receivers: ForwardReceivers { get }
    /// The server's sockets (its media port, its relayed sockets): their kernel drops are the
    /// server falling behind.
    var serverPorts: [Int] { get }
    /// Flows holding `count` packets in all, made now (SRTP protection included), so that
    /// the generator only sends.
    func flows(packets count: Int) throws -> [ForwardGenerator.Flow]
}

/// One measured window of a forwarding load: what the generator sent, what the receivers
/// counted, the server process's CPU and the kernel's drops over it.
struct ForwardWindow {
    var seconds = 0.0
    var sent = 0
    /// Copies the server should have sent for what the generator sent (sent × fan-out).
    var expected = 0
    var delivered = 0
    var serverCPU = 0.0
    var serverDrops = 0
    var receiverDrops = 0
    var verified = 0
    var failed = 0

    /// Packets out of the server per CPU second it used: the figure. Zero when a sampled packet
    /// failed its check or none was checked — a forwarder whose output is wrong scores nothing.
    var packetsPerCPUSecond: Double {
        guard failed == 0, verified > 0, serverCPU > 0 else { return 0 }
        return Double(delivered) / serverCPU
    }
    var deliveredPerSecond: Double { Double(delivered) / seconds }
    var expectedPerSecond: Double { Double(expected) / seconds }
    /// The server forwarded (nearly) all it was sent in the window, and its sockets dropped
    /// (nearly) nothing.
    var keepsUp: Bool {
        Double(delivered) >= Double(expected) * ForwardMeasure.keepingUp
            && Double(serverDrops) <= Double(sent) * ForwardMeasure.tolerableDrops
    }
    var serverCPUPercent: Double { serverCPU / seconds * 100 }

    /// Two windows as one (rounds of the same load).
    static func + (a: ForwardWindow, b: ForwardWindow) -> ForwardWindow {
        ForwardWindow(
            seconds: a.seconds + b.seconds, sent: a.sent + b.sent, expected: a.expected + b.expected, delivered: a.delivered + b.delivered,
            serverCPU: a.serverCPU + b.serverCPU, serverDrops: a.serverDrops + b.serverDrops,
            receiverDrops: a.receiverDrops + b.receiverDrops, verified: a.verified + b.verified, failed: a.failed + b.failed)
    }
}

/// How a forwarding load is paced and measured (docs/performance.md "Server forwarding"):
/// first a probe — the generator flooding for a second — says how many packets a second the
/// server gets through; the window then runs at `loadFraction` of that, lowered by `settle`
/// until a short trial shows the server keeping up, so it is near saturation but not drowning. The server's CPU is read from /proc before and after the window, by `cpu`.
enum ForwardMeasure {
    /// DUET_FORWARD_SECONDS: the measured window (3 s unless set).
    static let seconds = Double(ProcessInfo.processInfo.environment["DUET_FORWARD_SECONDS"] ?? "") ?? 3
    /// DUET_FORWARD_LOAD: the window's rate as a fraction of the probed rate (0.9 unless set).
    static let loadFraction = Double(ProcessInfo.processInfo.environment["DUET_FORWARD_LOAD"] ?? "") ?? 0.9
    /// Sent before a window's first sample, so it starts in the steady state.
    static let warmup = 0.5

    /// Generator packets a second the server forwards when flooded: the copies counted over the
    /// flood's last 0.3 s, divided by the fan-out. The flood starts at `floodRate` and doubles
    /// (twice at most) while the server keeps up with it. It is short, and not much above what
    /// the server can do, because what the server cannot take it queues (thousands of events
    /// between its socket and its loop, docs/server.md "Socket buffers") and works off for
    /// seconds afterwards, which the next run must wait out (`drain`).
    static func probe(_ load: any ForwardLoad, floodRate: Double, cpu: @escaping @Sendable () -> Double) async throws -> Double {
        var flood = floodRate
        for _ in 0..<3 {
            let window = try await run(load, rate: flood, warmup: 0.2, seconds: 0.3, cpu: cpu)
            guard window.sent > 0 else { throw CallSetupBench.BenchFailure("the generator sent nothing (no legs or calls?)") }
            guard window.keepsUp else { return window.deliveredPerSecond / Double(load.fanout) }
            flood *= 2
        }
        return flood / 2
    }

    /// The rate to measure at: `loadFraction` of the probed rate, then moved by half-second
    /// trials — up by a quarter while the server keeps up, down by a fifth while it does not
    /// (`ForwardWindow.keepsUp`), at most `settleTries` of them — to the highest rate tried
    /// that it kept up with. The probe alone is not enough: a path bound by hand-offs between
    /// threads rather than by CPU (the relay) forwards a flood in other batches than a steady
    /// stream, and the kernel's drops alone say nothing until the server's queues are full.
    static func settle(_ load: any ForwardLoad, probed: Double, cpu: @escaping @Sendable () -> Double) async throws -> Double {
        var rate = probed * loadFraction, best: Double?, cameDown = false
        for _ in 0..<settleTries {
            if try await run(load, rate: rate, warmup: 0.25, seconds: 0.5, cpu: cpu).keepsUp {
                best = rate
                if cameDown { break }
                rate *= 1.25
            } else {
                if best != nil { break }
                cameDown = true
                rate *= 0.8
            }
        }
        return best ?? rate
    }

    static let settleTries = 3
    static let tolerableDrops = 0.002
    static let keepingUp = 0.97

    /// Waits (5 s at most) until the receivers have had nothing for 100 ms: the server's
    /// backlog from the last run is gone, so a window counts only what its own packets caused.
    static func drain(_ load: any ForwardLoad) async throws {
        var last = load.receivers.counts.received
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(100))
            let now = load.receivers.counts.received
            if now == last { return }
            last = now
        }
    }

    /// Once the server is idle (`drain`), sends at `rate` for `warmup + seconds` and measures
    /// the last `seconds`.
    static func run(
        _ load: any ForwardLoad, rate: Double, warmup: Double = Self.warmup, seconds: Double = Self.seconds,
        cpu: @escaping @Sendable () -> Double
    ) async throws -> ForwardWindow {
        let began = ContinuousClock.now
        try await drain(load)
        let total = warmup + seconds + 0.1
        let flows = try load.flows(packets: Int(rate * total * 1.05) + load.receivers.sockets.count)
        let progress = ForwardGenerator.Progress()
        let generator = Task { await onThread { ForwardGenerator.run(flows, rate: rate, seconds: total, progress: progress) } }
        try await Task.sleep(for: .seconds(warmup))
        let before = Sample(load, progress: progress, cpu: cpu())
        try await Task.sleep(for: .seconds(seconds))
        let after = Sample(load, progress: progress, cpu: cpu())
        await generator.value
        let window = ForwardWindow(
            seconds: after.wall.seconds(since: before.wall), sent: after.sent - before.sent,
            expected: (after.sent - before.sent) * load.fanout,
            delivered: after.counts.received - before.counts.received, serverCPU: after.cpu - before.cpu,
            serverDrops: after.serverDrops - before.serverDrops, receiverDrops: after.receiverDrops - before.receiverDrops,
            verified: after.counts.verified - before.counts.verified, failed: after.counts.failed - before.counts.failed)
        if verbose {
            print(
                "# \(Int(rate)) packets/s for \(seconds) s: sent \(window.sent), owed \(window.expected), delivered \(window.delivered),"
                    + " server drops \(window.serverDrops), CPU \(Int(window.serverCPUPercent)) %, took \(Int(ContinuousClock.now.milliseconds(since: began))) ms"
            )
        }
        return window
    }

    /// DUET_FORWARD_VERBOSE: every run's rate and counts, and the setup's times.
    static let verbose = ProcessInfo.processInfo.environment["DUET_FORWARD_VERBOSE"] != nil

    /// The counters at one edge of a window.
    private struct Sample {
        let wall = ContinuousClock.now
        let counts: ForwardReceivers.Counts
        let sent: Int
        let cpu: Double
        let serverDrops: Int
        let receiverDrops: Int

        init(_ load: any ForwardLoad, progress: ForwardGenerator.Progress, cpu: Double) {
            counts = load.receivers.counts
            sent = progress.sent.load(ordering: .relaxed)
            self.cpu = cpu
            let drops = LoadSample.socketDropsByPort()
            serverDrops = load.serverPorts.reduce(0) { $0 + (drops[$1] ?? 0) }
            receiverDrops = load.receivers.sockets.reduce(0) { $0 + (drops[Int($1.address.port)] ?? 0) }
        }
    }
}
