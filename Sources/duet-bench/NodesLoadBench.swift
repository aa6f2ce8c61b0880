import DuetWire
import Foundation
import PostgresLab

/// The load bench against two server nodes at once, sharing one PostgreSQL directory
/// (docs/deployment.md, docs/performance.md "Two nodes"): every 1:1 call's caller signals
/// through the first node and its callee through the second (each call's signals cross nodes
/// through PostgreSQL), the group call's members alternate between the nodes (its room is on
/// one of them; the other forwards). Each node is its own process, so each node's CPU and
/// memory are its own; PostgreSQL is the bench's private cluster (Tests/PostgresLab). Smaller
/// than `LoadBench`'s plan by default: two servers, PostgreSQL and the devices share two cores.
/// Sizes: DUET_NODES_LOAD_CALLS (20), DUET_NODES_LOAD_MEMBERS (12), DUET_LOAD_SECONDS (10).
enum NodesLoadBench {
    static func run(report: BenchReport) async {
        _ = LoadDevice.benchStarted
        var plan = LoadBench.Plan()
        plan.calls = Int(ProcessInfo.processInfo.environment["DUET_NODES_LOAD_CALLS"] ?? "") ?? 20
        plan.members = Int(ProcessInfo.processInfo.environment["DUET_NODES_LOAD_MEMBERS"] ?? "") ?? 12
        let database: (name: String, url: String), cluster: PostgresCluster, nodes: [LoadServerProcess]
        do {
            cluster = try PostgresCluster.running()
            database = try cluster.makeDatabase()
            // Each call relays through both nodes (caller's and callee's): one relay must reach the other's on loopback.
            nodes = try (0..<2).map { _ in try LoadServerProcess.start(allowingLoopbackPeers: true, database: database.url) }
        } catch {
            print("load_nodes_error 1 error  # \(error)")
            return
        }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-nodes-\(UUID().uuidString.prefix(8))")
        var devices: [LoadDevice] = []
        do {
            let members = try await LoadBench.makeMembers(plan, home: home, servers: nodes.map(\.signaling))
            devices += members
            let (callers, callees) = try await LoadBench.makePairs(
                plan, home: home, callers: (nodes[0].signaling, "+1555830"), callees: (nodes[1].signaling, "+1555840"))
            devices += callers + callees
            let settle = try await LoadBench.settleGroup(members)
            let setups = await LoadBench.placeCalls(callers, callees)
            try await Task.sleep(for: .seconds(3))
            let before = await LoadSample(server: nodes[0], members: members, callers: callers, callees: callees)
            let cpuBefore = nodes.map(\.cpuSeconds)
            try await Task.sleep(for: .seconds(plan.seconds))
            let after = await LoadSample(server: nodes[0], members: members, callers: callers, callees: callees)
            let seconds = after.wall.seconds(since: before.wall)
            report.figure("nodes_load_calls_planned", Double(plan.calls), unit: "calls")
            report.figure("nodes_load_group_members_planned", Double(plan.members), unit: "members")
            report.figure("nodes_group_settle_ms", settle, unit: "ms")
            report.figure("nodes_call_setup_p50_ms", LoadBench.percentile(setups.sorted(), 0.5), unit: "ms")
            report.figure("nodes_healthy_calls", Double(after.healthyCalls(since: before)), unit: "calls")
            report.figure(
                "nodes_media_loss_pct", after.lossPercent(since: before, seconds: plan.seconds, all: members.map(\.number)), unit: "%")
            for (index, node) in nodes.enumerated() {
                let name = index == 0 ? "a" : "b"
                report.figure("node_\(name)_cpu_pct", (node.cpuSeconds - cpuBefore[index]) / seconds * 100, unit: "%")
                report.figure("node_\(name)_rss_mb", node.peakMemory, unit: "MiB")
            }
        } catch {
            print("load_nodes_error 1 error  # \(error)")
        }
        for device in devices { await device.close() }
        for node in nodes { node.stop() }
        cluster.dropDatabase(database.name)
        try? FileManager.default.removeItem(at: home)
    }
}
