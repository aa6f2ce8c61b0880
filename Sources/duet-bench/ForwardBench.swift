import DuetClient
import DuetMedia
import DuetWire
import Foundation

/// The server's forwarding rate per core of its own CPU (docs/performance.md
/// "Server forwarding"): the server in its own process (`LoadServerProcess`), fed over real UDP
/// sockets by this process's generator (`ForwardGenerator`), its output counted at the receivers
/// (`ForwardReceivers`) and divided by the CPU seconds /proc charges the server's process with over
/// the window. Three loads: a 32-member group call through the SFU (each packet re-protected for
/// the 31 other legs), a 9-member video room (1,000-byte video packets with frame marking, each
/// filtered by layer, re-protected and kept per receiver for its NACKs), and 50 relayed calls
/// through the TURN relay (both ways). Sizes from DUET_FORWARD_MEMBERS, DUET_FORWARD_VIDEO_MEMBERS
/// and DUET_FORWARD_CALLS; the window from `ForwardMeasure`.
enum ForwardBench {
    static let members = Int(ProcessInfo.processInfo.environment["DUET_FORWARD_MEMBERS"] ?? "") ?? 32
    static let calls = Int(ProcessInfo.processInfo.environment["DUET_FORWARD_CALLS"] ?? "") ?? 50
    static let videoMembers = Int(ProcessInfo.processInfo.environment["DUET_FORWARD_VIDEO_MEMBERS"] ?? "") ?? 9
    /// The probes' first flood, in generator packets a second: above what either path forwarded
    /// on this machine (about 5,000 × 31 copies and 50,000), not far above (see `ForwardMeasure.probe`).
    static let sfuFlood = 6_000.0
    static let relayFlood = 60_000.0
    /// Video: eight copies of each packet, ten times the voice's bytes.
    static let videoFlood = 20_000.0

    static func run(report: BenchReport) async {
        await BenchDevices.withServer("forward", devices: members, prefix: "+1555830") { server, numbers, sessions in
            let pid = server.process.processIdentifier
            let cpu: @Sendable () -> Double = { ProcessCPU.seconds(of: pid) }
            show(await measureSFU(sessions, numbers: numbers, cpu: cpu), "sfu", report: report)
            // The same room with legs that negotiated AES-CM (a peer without GCM): what the
            // SFU's cipher costs beside the rest.
            show(
                await measureSFU(sessions, numbers: numbers, callID: "forward-sfu-aescm", profiles: [.aesCM128HMACSHA1_80], cpu: cpu),
                "sfu_aescm", report: report)
            let room = min(videoMembers, sessions.count)
            show(
                await measureSFU(
                    Array(sessions.prefix(room)), numbers: Array(numbers.prefix(room)), callID: "forward-sfu-video", kind: .video,
                    cpu: cpu),
                "sfu_video", report: report)
            show(await measureRelay(sessions, server: server, cpu: cpu), "relay", report: report)
        }
    }

    /// The group call of `sessions` through the SFU.
    /// Every member leaves the call afterwards, so the next measurement's call can have them.
    static func measureSFU(
        _ sessions: [DeviceSession], numbers: [String], callID: String = "forward-sfu",
        profiles: [SRTPProfile] = [.aeadAES128GCM, .aesCM128HMACSHA1_80], kind: SFULoad.Kind = .voice,
        cpu: @escaping @Sendable () -> Double
    ) async -> Result<ForwardWindow, Error> {
        let result: Result<ForwardWindow, Error>
        do {
            let sfu = try await SFULoad.make(sessions, numbers: numbers, callID: callID, profiles: profiles, kind: kind)
            defer { sfu.receivers.stop() }
            result = .success(try await measure(sfu, flood: kind == .video ? videoFlood : sfuFlood, cpu: cpu))
        } catch {
            result = .failure(error)
        }
        for session in sessions { _ = try? await session.connection.leaveGroupCall(callID: callID) }
        return result
    }

    /// `calls` relayed calls through the server's relay, their credentials asked for over
    /// signaling by `sessions` in turn, as devices get them (per call, for a registered number;
    /// the relay's quota of allocations per number stays as it is).
    static func measureRelay(_ sessions: [DeviceSession], server: LoadServerProcess, cpu: @escaping @Sendable () -> Double) async
        -> Result<ForwardWindow, Error>
    {
        do {
            var clients: [RelayClient] = []
            for index in 0..<calls {
                let credentials = try await sessions[index % sessions.count].connection.relayCredentials(callID: "forward-\(index)")
                clients.append(credentials.makeRelayClient())
            }
            let relay = try await RelayLoad.make(server: try mediaAddress(server), clients: clients)
            defer { relay.receivers.stop() }
            return .success(try await measure(relay, flood: relayFlood, cpu: cpu))
        } catch {
            return .failure(error)
        }
    }

    /// The probe, the trials, then the window at the rate they settled on.
    static func measure(_ load: any ForwardLoad, flood: Double, cpu: @escaping @Sendable () -> Double) async throws -> ForwardWindow {
        let capacity = try await ForwardMeasure.probe(load, floodRate: flood, cpu: cpu)
        guard capacity > 0 else { throw CallSetupBench.BenchFailure("nothing was forwarded while probing") }
        let rate = try await ForwardMeasure.settle(load, probed: capacity, cpu: cpu)
        let window = try await ForwardMeasure.run(load, rate: rate, cpu: cpu)
        // A half-second trial does not always predict three seconds: once more, a fifth slower,
        // rather than a figure measured while the server drowns.
        return window.keepsUp ? window : try await ForwardMeasure.run(load, rate: rate * 0.8, cpu: cpu)
    }

    /// The server's media port as an address (its relay listens there).
    static func mediaAddress(_ server: LoadServerProcess) throws -> TransportAddress {
        let port = UInt16(server.media.port)
        guard let address = TransportAddress(ipv4: server.media.host, port: port) ?? Loopback.address(named: server.media.host, port: port)
        else {
            throw CallSetupBench.BenchFailure("the media port \(server.media) is not an IPv4 address")
        }
        return address
    }

    /// The figure and its context lines, or the error that kept the load from being measured.
    static func show(_ result: Result<ForwardWindow, Error>, _ name: String, report: BenchReport) {
        let window: ForwardWindow
        switch result {
        case let .success(measured): window = measured
        case let .failure(error):
            print("server_forward_\(name)_error 1 error  # \(error)")
            return
        }
        report.figure("server_forward_pps_per_core_\(name)", window.packetsPerCPUSecond, unit: "pps/core")
        // The name docs/performance.md gives the video room's figure.
        if name == "sfu_video" { report.figure("sfu_video_forward_pps_per_core", window.packetsPerCPUSecond, unit: "pps/core") }
        report.figure("server_forward_\(name)_pps", window.deliveredPerSecond, unit: "pps")
        report.figure("server_forward_\(name)_offered_pps", window.expectedPerSecond, unit: "pps")
        report.figure("server_forward_\(name)_cpu_pct", window.serverCPUPercent, unit: "%")
        report.figure("server_forward_\(name)_server_drops", Double(window.serverDrops), unit: "datagrams")
        report.figure("server_forward_\(name)_receiver_drops", Double(window.receiverDrops), unit: "datagrams")
        report.figure("server_forward_\(name)_bad_samples", Double(window.failed), unit: "packets")
        if window.failed > 0 || window.verified == 0 {
            print("# server_forward_\(name): \(window.verified) sampled packets verified, \(window.failed) failed: the figure is 0")
        }
    }
}
