import DuetClient
import DuetWire
import Foundation

/// Registered devices for the forwarding benches: only what the server needs to see — an
/// account on its signaling port, which is who may start or join a group call and who gets
/// relay credentials (`relayCredentials(callID:)`, issued per call to a registered number,
/// with the relay's per-number allocation quota kept). No call engine: the benches make the
/// media themselves.
enum BenchDevices {
    /// Opens and registers `numbers` one after another, with profiles under `home`.
    static func register(_ numbers: [String], home: URL, server: HostPort) async throws -> [DeviceSession] {
        var sessions: [DeviceSession] = []
        let started = ContinuousClock.now
        defer {
            if ForwardMeasure.verbose {
                print("# \(numbers.count) devices registered in \(Int(ContinuousClock.now.milliseconds(since: started))) ms")
            }
        }
        do {
            for number in numbers {
                let location = try ProfileLocation(name: number.filter(\.isNumber), home: home)
                let store = try DeviceStore.open(location, passphrase: nil, create: true)
                try store.initializeKeys()
                let session = try await DeviceSession.open(store: store, server: server)
                sessions.append(session)
                _ = try await session.register(number: number, name: nil, invite: nil)
            }
        } catch {
            await close(sessions)
            throw error
        }
        return sessions
    }

    /// A server process for a forwarding bench (relay peers on loopback allowed) and `count`
    /// devices registered on it under `prefix`, for `body`; everything is stopped and removed
    /// afterwards, and a failure is printed as the bench's `<name>_error` line.
    static func withServer(
        _ name: String, devices count: Int, prefix: String,
        _ body: (LoadServerProcess, _ numbers: [String], [DeviceSession]) async throws -> Void
    ) async {
        let server: LoadServerProcess
        do { server = try LoadServerProcess.start(allowingLoopbackPeers: true) } catch {
            print("\(name)_error 1 error  # \(error)")
            return
        }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-\(name)-\(UUID().uuidString.prefix(8))")
        var sessions: [DeviceSession] = []
        do {
            let numbers = Self.numbers(count, prefix: prefix)
            sessions = try await register(numbers, home: home, server: server.signaling)
            try await body(server, numbers, sessions)
        } catch {
            print("\(name)_error 1 error  # \(error)")
        }
        await close(sessions)
        server.stop()
        try? FileManager.default.removeItem(at: home)
    }

    static func close(_ sessions: [DeviceSession]) async {
        for session in sessions { await session.close() }
    }

    /// `count` numbers of the bench's own range, `prefix` followed by two digits.
    static func numbers(_ count: Int, prefix: String) -> [String] {
        (0..<count).map { "\(prefix)\(String(format: "%02d", $0))" }
    }
}
