import DuetClient
import DuetServer
import DuetTUI
import DuetWire
import Foundation
import Logging

/// Call setup time as a person feels it (docs/networking.md "Where call setup's round trips go"): from `place()` — bundle fetch, X3DH,
/// candidates, the ring — to the first decoded frame of the callee's voice, with the callee
/// answering automatically. A real server and two real device stores, all on loopback, so
/// the figure is the protocol's and the code's cost, not a network's. The signaling round
/// trip measured in the same run gives the figure a yardstick.
enum CallSetupBench {
    static let calls = 7

    static func run(report: BenchReport) async {
        do {
            let server = try await BenchServer.start("call-setup")
            let home = server.home
            let address = server.address
            let alice = try await device("+15557001", home: home, server: address, autoAnswer: false, forceRelay: false)
            let bob = try await device("+15557002", home: home, server: address, autoAnswer: true, forceRelay: false)
            let carol = try await device("+15557003", home: home, server: address, autoAnswer: false, forceRelay: true)
            let dave = try await device("+15557004", home: home, server: address, autoAnswer: true, forceRelay: false)
            var direct: [Double] = [], relayed: [Double] = [], pings: [Double] = []
            for round in 0..<(calls + 1) {  // the first round warms up
                let p2p = try await setUp(alice.engine, to: "+15557002")
                let relay = try await setUp(carol.engine, to: "+15557004")
                let ping = try await milliseconds { try await alice.session.connection.ping() }
                if round > 0 {
                    direct.append(p2p)
                    relayed.append(relay)
                    pings.append(ping)
                }
            }
            report.figure("call_setup_ms", Timing.median(direct), unit: "ms")
            report.figure("call_setup_relay_ms", Timing.median(relayed), unit: "ms")
            report.figure("call_setup_vs_signaling_rtt", Timing.median(direct) / Timing.median(pings), unit: "ratio")
            try await keyLatency(alice, calling: "+15557002", report: report)
            for device in [alice, bob, carol, dave] { await device.session.close() }
            await server.stop()
        } catch {
            print("call_setup_error 1 error  # \(error)")
        }
    }

    /// The terminal client's answer to a key while a call's media runs: the controller
    /// handling the key plus rendering the new screen (painting is ncurses' fixed cost). The
    /// issue's budget is 100 ms; the ratio says how much of it is used.
    private static func keyLatency(_ device: Device, calling number: String, report: BenchReport) async throws {
        let controller = try TUIController(session: device.session, engine: device.engine, profile: "bench", embedded: false)
        await controller.start {}
        let events = device.engine.events
        try await device.engine.place(to: number)
        for await event in events where event == .firstAudio { break }
        var samples: [Double] = []
        for index in 0..<200 {
            let key: KeyPress = index % 2 == 0 ? .character("l") : .character("m")
            samples.append(
                await milliseconds {
                    await controller.handle(key)
                    _ = ScreenRenderer.render(await controller.state, width: 120, height: 40)
                })
            try await Task.sleep(for: .milliseconds(5))
        }
        await device.engine.hangUp()
        let median = Timing.median(samples)
        report.figure("tui_key_to_frame_ms", median, unit: "ms")
        report.figure("tui_key_to_frame_vs_budget", median / 100, unit: "ratio")
        try await Task.sleep(for: .milliseconds(200))
    }

    /// One session per device: its call signals feed exactly one engine.
    private struct Device {
        let session: DeviceSession
        let engine: CallEngine
    }

    private static func device(_ number: String, home: URL, server: HostPort, autoAnswer: Bool, forceRelay: Bool) async throws -> Device {
        let store = try DeviceStore.open(ProfileLocation(name: number.filter(\.isNumber), home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        let session = try await DeviceSession.open(store: store, server: server)
        _ = try await session.register(number: number, name: nil, invite: nil)
        var options = CallOptions()
        options.autoAnswer = autoAnswer
        options.forceRelay = forceRelay
        let engine = try CallEngine(session: session, options: options)
        await engine.start()
        return Device(session: session, engine: engine)
    }

    /// One call: milliseconds from place() to the first decoded frame, then hang up.
    private static func setUp(_ engine: CallEngine, to number: String) async throws -> Double {
        let events = engine.events
        var heard: Double?
        let started = ContinuousClock.now
        try await engine.place(to: number)
        for await event in events {
            if event == .firstAudio, heard == nil {
                heard = seconds(ContinuousClock.now - started) * 1000
                await engine.hangUp()
            }
            if event == .keysWiped { break }
        }
        guard let heard else { throw BenchFailure("call to \(number) ended before any audio") }
        try await Task.sleep(for: .milliseconds(100))  // let the callee finish ending
        return heard
    }

    private static func milliseconds(_ body: () async throws -> Void) async rethrows -> Double {
        let started = ContinuousClock.now
        try await body()
        return seconds(ContinuousClock.now - started) * 1000
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    struct BenchFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
