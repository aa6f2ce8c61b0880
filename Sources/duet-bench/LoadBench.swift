import DuetClient
import DuetMedia
import DuetWire
import Foundation

/// The server on its worst day (docs/testing.md "Load"): N concurrent 1:1 calls forced through the
/// relay and one group call of M members, all through one server on loopback, at once. The
/// server runs in its own process (`LoadServerProcess`) so its CPU and memory are its own;
/// the devices are real (`DeviceSession`, `CallEngine`, `GroupCallEngine`: X3DH, SRTP, SFrame,
/// Opus) in this process. Sizes come from DUET_LOAD_CALLS / DUET_LOAD_MEMBERS /
/// DUET_LOAD_SECONDS (defaults: the issue's target of 50 calls and 32 members, 10 s).
enum LoadBench {
    struct Plan {
        var calls = Int(ProcessInfo.processInfo.environment["DUET_LOAD_CALLS"] ?? "") ?? 50
        var members = Int(ProcessInfo.processInfo.environment["DUET_LOAD_MEMBERS"] ?? "") ?? 32
        var seconds = Int(ProcessInfo.processInfo.environment["DUET_LOAD_SECONDS"] ?? "") ?? 10
        /// Replayed (each device's voice encoded once, see `VoiceEncoder`) unless DUET_LOAD_VOICE=live.
        var voiceEncoding: VoiceEncoder.Mode = ProcessInfo.processInfo.environment["DUET_LOAD_VOICE"] == "live" ? .live : .replayed
    }

    static func run(report: BenchReport, plan: Plan = Plan()) async {
        _ = LoadDevice.benchStarted
        let server: LoadServerProcess
        do { server = try LoadServerProcess.start() } catch {
            print("load_error 1 error  # \(error)")
            return
        }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-load-devices-\(UUID().uuidString.prefix(8))")
        var devices: [LoadDevice] = []
        do {
            let members = try await makeMembers(plan, home: home, servers: [server.signaling])
            devices += members
            let (callers, callees) = try await makePairs(
                plan, home: home, callers: (server.signaling, "+1555810"), callees: (server.signaling, "+1555820"))
            devices += callers + callees
            let cpuBefore = (generator: ProcessCPU.seconds(of: getpid()), server: server.cpuSeconds)
            let groupSettle = try await settleGroup(members)
            // What the settle cost each side: the figure is bound by these two on two cores.
            let settleCPU = (
                generator: ProcessCPU.seconds(of: getpid()) - cpuBefore.generator, server: server.cpuSeconds - cpuBefore.server
            )
            let setups = await placeCalls(callers, callees)
            try await Task.sleep(for: .seconds(3))  // the calls settle: relay paths up, jitter buffers filled

            // The measured window.
            let before = await LoadSample(server: server, members: members, callers: callers, callees: callees)
            try await Task.sleep(for: .seconds(plan.seconds))
            let after = await LoadSample(server: server, members: members, callers: callers, callees: callees)
            if ProcessInfo.processInfo.environment["DUET_LOAD_VERBOSE"] != nil { await printViews(members, callers, callees) }
            report.figure("load_calls_planned", Double(plan.calls), unit: "calls")
            report.figure("load_group_members_planned", Double(plan.members), unit: "members")
            report.figure("group_settle_ms", groupSettle, unit: "ms")
            report.figure("group_settle_generator_cpu_s", settleCPU.generator, unit: "s")
            report.figure("group_settle_server_cpu_s", settleCPU.server, unit: "s")
            report.figure("call_setup_p50_ms", percentile(setups.sorted(), 0.5), unit: "ms")
            report.figure("call_setup_p99_ms", percentile(setups.sorted(), 0.99), unit: "ms")
            reportWindow(before, after, plan: plan, members: members.map(\.number), report: report)
        } catch {
            print("load_error 1 error  # \(error)")
        }
        for device in devices { await device.close() }
        server.stop()
        try? FileManager.default.removeItem(at: home)
    }

    /// The group call's members. The first `listeners` listen: each opens and counts every
    /// member's frames and decodes (so can say it hears) the next two. The rest talk only: the
    /// SFU still sends them a copy of every frame — the server's work is the same — but they drop
    /// it unread, because a load generator on the server's two cores cannot read 32 × 31 streams too.
    /// Member i signals through `servers[i % servers.count]` (one server, or the nodes of
    /// `NodesLoadBench`).
    /// The plan's 1:1 calls as caller and callee devices, all relayed: callers numbered from
    /// `callers.prefix` on `callers.server`, callees likewise (one server, or two nodes).
    static func makePairs(
        _ plan: Plan, home: URL, callers: (server: HostPort, prefix: String), callees: (server: HostPort, prefix: String)
    ) async throws -> (callers: [LoadDevice], callees: [LoadDevice]) {
        var made: (callers: [LoadDevice], callees: [LoadDevice]) = ([], [])
        for index in 0..<plan.calls {
            let suffix = String(format: "%02d", index)
            made.callers.append(
                try await LoadDevice(
                    callers.prefix + suffix, home: home, server: callers.server, relay: true, voiceEncoding: plan.voiceEncoding))
            made.callees.append(
                try await LoadDevice(
                    callees.prefix + suffix, home: home, server: callees.server, relay: true, voiceEncoding: plan.voiceEncoding))
        }
        return made
    }

    static func makeMembers(_ plan: Plan, home: URL, servers: [HostPort]) async throws -> [LoadDevice] {
        let numbers = (0..<plan.members).map { "+1555800\(String(format: "%02d", $0))" }
        var members: [LoadDevice] = []
        for (index, number) in numbers.enumerated() {
            let decodes = Set((1...2).map { numbers[(index + $0) % numbers.count] }).subtracting([number])
            members.append(
                try await LoadDevice(
                    number, home: home, server: servers[index % servers.count], relay: false, decodes: decodes,
                    listens: index < Self.listeners, voiceEncoding: plan.voiceEncoding))
        }
        return members
    }

    /// Starts the group call, every member joining at once; milliseconds until every listener
    /// opened frames of every other member (NaN if that did not happen). The group call settles
    /// before the calls ring: its setup (every member opening a pairwise channel to every other,
    /// 32 × 31 X3DH, and handing over its key) is a burst, not the steady load the target is about.
    static func settleGroup(_ members: [LoadDevice]) async throws -> Double {
        guard let owner = members.first, members.count > 1 else { return .nan }
        let started = ContinuousClock.now
        let group = try await owner.session.connection.createGroup(name: "Load", members: members.dropFirst().map(\.number))
        let call = try await owner.groupEngine.start(group: group.id)
        await withTaskGroup(of: Void.self) { joining in
            for member in members.dropFirst() { joining.addTask { _ = try? await member.groupEngine.join(callID: call.callID) } }
        }
        guard await Self.waitUntilEveryListenerOpensEveryMember(members, within: .seconds(90)) else { return .nan }
        return ContinuousClock.now.milliseconds(since: started)
    }

    /// The calls, 20 ms apart, while the group call runs: each setup timed from place() to the
    /// caller's first decoded frame.
    static func placeCalls(_ callers: [LoadDevice], _ callees: [LoadDevice]) async -> [Double] {
        await withTaskGroup(of: Double?.self) { placing in
            for (caller, callee) in zip(callers, callees) {
                placing.addTask { try? await caller.call(callee.number) }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return await placing.reduce(into: [Double]()) { if let time = $1 { $0.append(time) } }
        }
    }

    /// The figures of the measured window, from the samples at its start and end.
    private static func reportWindow(_ before: LoadSample, _ after: LoadSample, plan: Plan, members: [String], report: BenchReport) {
        report.figure("media_loss_pct", after.lossPercent(since: before, seconds: plan.seconds, all: members), unit: "%")
        report.figure("server_cpu_pct", (after.serverCPU - before.serverCPU) / after.wall.seconds(since: before.wall) * 100, unit: "%")
        report.figure("server_rss_mb", after.serverPeakMemory, unit: "MiB")
        report.figure("max_concurrent_relayed_calls", Double(after.healthyCalls(since: before)), unit: "calls")
        report.figure(
            "max_group_members", Double(after.healthyMembers(since: before, seconds: plan.seconds, all: members)), unit: "members")
        report.figure("decode_failures", Double(after.decodeFailures(since: before)), unit: "packets")
        report.figure("udp_receive_buffer_drops", Double(after.readerSocketDrops - before.readerSocketDrops), unit: "datagrams")
        // Where group frames go missing: not sent (the members' 20 ms loops fell behind), dropped
        // at the server's socket, or lost at a listener (its socket, or its engine, fell behind).
        let groupExpected = Double(plan.members * LoadSample.expected(seconds: plan.seconds))
        report.figure(
            "group_frames_sent_pct",
            groupExpected == 0 ? .nan : Double(after.groupFramesSent - before.groupFramesSent) * 100 / groupExpected,
            unit: "%")
        report.figure("server_socket_drops", Double(after.serverSocketDrops - before.serverSocketDrops), unit: "datagrams")
        report.figure("listener_drops", Double(after.listenerOverflow - before.listenerOverflow), unit: "datagrams")
        report.figure("load_generator_cpu_pct", (after.ownCPU - before.ownCPU) / after.wall.seconds(since: before.wall) * 100, unit: "%")
    }

    /// DUET_LOAD_VERBOSE: every call's and member's view.
    private static func printViews(_ members: [LoadDevice], _ callers: [LoadDevice], _ callees: [LoadDevice]) async {
        for (caller, callee) in zip(callers, callees) {
            let state = await caller.callEngine.state
            print(
                "# \(caller.number) hears \(caller.hearing?.description ?? "-") | \(callee.number) hears \(callee.hearing?.description ?? "-") | \(state)"
            )
            if case .ended = state {
                for line in caller.callLog { print("#   caller \(line)") }
                for line in callee.callLog { print("#   callee \(line)") }
            }
        }
        for member in members {
            let snapshot = await member.groupEngine.snapshot()
            print(
                "# \(member.number) undecryptable \(snapshot?.undecryptable ?? -1) hearing \(snapshot?.hearing.values.map(\.description).sorted() ?? [])"
            )
        }
    }

    /// Group members that read the call's audio; the others only talk.
    static let listeners = 2

    /// Waits until every listener has opened frames of every other member (so every member's
    /// key is out and in use); false if that did not happen in time.
    static func waitUntilEveryListenerOpensEveryMember(_ members: [LoadDevice], within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        let numbers = members.map(\.number)
        while ContinuousClock.now < deadline {
            var settled = true
            for member in members where member.listens {
                let received = await member.groupEngine.snapshot()?.framesOpened ?? [:]
                if numbers.contains(where: { $0 != member.number && (received[$0] ?? 0) == 0 }) {
                    settled = false
                    break
                }
            }
            if settled { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded(.up)))]
    }
}

extension ContinuousClock.Instant {
    func seconds(since start: ContinuousClock.Instant) -> Double { milliseconds(since: start) / 1000 }
}
