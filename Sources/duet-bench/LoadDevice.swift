import DuetClient
import DuetWire
import Foundation
import Synchronization

/// One device of the load bench: its session with a 1:1 engine (relay forced, auto-answer)
/// and a group engine, and the last hearing report of its call. A hundred of these share two
/// cores with the server, so each encodes at Opus complexity 0 and, in the group call, decodes
/// only the members in `decodes` (every frame is still opened by SFrame and counted).
final class LoadDevice: Sendable {
    let number: String
    /// The group members whose audio this device decodes (nil: all).
    let decodes: Set<String>?
    /// False for a talker: it sends and reads nothing of the call's audio.
    let listens: Bool
    let session: DeviceSession
    let callEngine: CallEngine
    let groupEngine: GroupCallEngine
    /// The last hearing report of the device's 1:1 call, kept by `follower`.
    private final class LastHearing: Sendable {
        let report = Mutex<HearingReport?>(nil)
        /// The call's other events with their times since the bench began (DUET_LOAD_VERBOSE).
        let log = Mutex<[String]>([])
    }

    private let lastHearing = LastHearing()
    private let follower: Task<Void, Never>

    init(_ number: String, home: URL, server: HostPort, relay: Bool, decodes: Set<String>? = nil, listens: Bool = true) async throws {
        self.number = number
        self.decodes = decodes
        let store = try DeviceStore.open(ProfileLocation(name: number.filter(\.isNumber), home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        session = try await DeviceSession.open(store: store, server: server)
        _ = try await session.register(number: number, name: nil, invite: nil)
        var options = CallOptions()
        options.forceRelay = relay
        options.autoAnswer = true
        options.opusComplexity = 0
        callEngine = try CallEngine(session: session, options: options)
        var groupOptions = GroupCallEngine.Options()
        groupOptions.opusComplexity = 0
        groupOptions.decoded = decodes
        groupOptions.receivesAudio = listens
        self.listens = listens
        groupEngine = try GroupCallEngine(session: session, options: groupOptions)
        let events = callEngine.events, hearing = lastHearing
        follower = Task {
            for await event in events {
                if case let .hearing(report) = event {
                    hearing.report.withLock { $0 = report }
                } else {
                    let line = "\(Int(ContinuousClock.now.milliseconds(since: LoadDevice.benchStarted))) ms \(event)"
                    hearing.log.withLock { $0.append(line) }
                }
            }
        }
        await callEngine.start()
        await groupEngine.follow()
    }

    /// Places a call and returns milliseconds from place() to the first frame decoded.
    func call(_ number: String) async throws -> Double {
        let events = callEngine.events
        let started = ContinuousClock.now
        try await callEngine.place(to: number)
        for await event in events {
            if event == .firstAudio { return ContinuousClock.now.milliseconds(since: started) }
            if case .state(.ended) = event { break }
        }
        throw CallSetupBench.BenchFailure("the call from \(self.number) to \(number) ended before any audio")
    }

    var hearing: HearingReport? { lastHearing.report.withLock { $0 } }
    /// The call's events other than hearing reports, timed from `benchStarted`.
    var callLog: [String] { lastHearing.log.withLock { $0 } }
    static let benchStarted = ContinuousClock.now  // read first when the bench starts

    func close() async {
        await callEngine.hangUp()
        await groupEngine.close()
        follower.cancel()
        await session.close()
    }
}

/// The state of the load at one moment: the server's CPU and memory, and what every device
/// has received and heard. Two samples make the measured window.
struct LoadSample {
    /// One group member's view.
    struct Member {
        let connected: Bool
        let undecryptable: Int
        /// Frames received from each other member so far.
        let received: [String: Int]
        /// The members it decodes, and whether each is heard now.
        let heard: [String: Bool]
    }

    let wall = ContinuousClock.now
    /// Datagrams the kernel dropped because a socket's receive buffer was full (all sockets
    /// of the machine: loopback here): where loss comes from when a reader falls behind.
    let udpReceiveBufferErrors = Self.udpCounter("RcvbufErrors")
    /// Of those, the server's media socket's own (it fell behind reading).
    let serverSocketDrops: Int
    /// Frames every group member has sent so far (talkers included), and datagrams the
    /// listeners lost on their side: dropped by the kernel at their sockets (the event loop
    /// fell behind reading) or in this process (the engine fell behind taking them).
    let groupFramesSent: Int
    let listenerOverflow: Int
    let serverCPU: Double
    let serverMemory: (resident: Double, peak: Double)
    let ownCPU: Double
    let members: [String: Member]
    /// Per call: both sides hear each other, and the packets SRTP refused so far.
    let calls: [(healthy: Bool, refused: Int, loss: [Double])]

    init(server: LoadServerProcess, members: [LoadDevice], callers: [LoadDevice], callees: [LoadDevice]) async {
        serverCPU = server.cpuSeconds
        serverMemory = server.memory
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        ownCPU = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        serverSocketDrops = Self.socketDrops(port: server.media.port)
        var views: [String: Member] = [:], sent = 0, overflow = 0
        for member in members {
            guard let snapshot = await member.groupEngine.snapshot() else { continue }
            sent += snapshot.framesSent
            guard member.listens else { continue }
            overflow += snapshot.datagramsOverflowed + Self.socketDrops(port: Int(snapshot.legAddress.port))
            let decoded = members.map(\.number).filter { $0 != member.number && (member.decodes?.contains($0) ?? true) }
            views[member.number] = Member(connected: snapshot.mediaConnected, undecryptable: snapshot.undecryptable,
                                          received: snapshot.hearing.mapValues(\.received),
                                          heard: Dictionary(uniqueKeysWithValues: decoded.map { ($0, snapshot.hearing[$0]?.heard == true) }))
        }
        self.members = views
        groupFramesSent = sent
        listenerOverflow = overflow
        calls = zip(callers, callees).map { caller, callee in
            guard let a = caller.hearing, let b = callee.hearing else { return (false, 0, []) }
            let refused = a.tamperedPackets + a.replayedPackets + b.tamperedPackets + b.replayedPackets
            let hear = a.speaker?.contains(callee.number) == true && b.speaker?.contains(caller.number) == true
            return (hear, refused, [a.lossPercent, b.lossPercent])
        }
    }

    static func udpCounter(_ name: String) -> Int {
        guard let snmp = try? String(contentsOfFile: "/proc/net/snmp", encoding: .utf8) else { return 0 }
        let rows = snmp.split(separator: "\n").filter { $0.hasPrefix("Udp:") }.map { $0.split(separator: " ") }
        guard rows.count >= 2, let column = rows[0].firstIndex(where: { $0 == name }), column < rows[1].count else { return 0 }
        return Int(rows[1][column]) ?? 0
    }

    /// The kernel's drop count of the UDP sockets bound to `port` (/proc/net/udp's last column).
    static func socketDrops(port: Int) -> Int {
        guard let table = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8) else { return 0 }
        let wanted = String(format: "%04X", port)
        return table.split(separator: "\n").dropFirst().reduce(0) { total, row in
            let fields = row.split(separator: " ")
            guard fields.count > 12, fields[1].hasSuffix(":" + wanted), let drops = Int(fields[fields.count - 1]) else { return total }
            return total + drops
        }
    }

    /// Frames each member should get from each other one in `seconds` (50 a second).
    static func expected(seconds: Int) -> Int { 50 * seconds }

    /// Members the call carried over the window: every listener got at least 95 % of their
    /// frames; a listener must also have opened every frame it got and heard those it decodes.
    func healthyMembers(since before: LoadSample, seconds: Int, all numbers: [String]) -> Int {
        let listenersHealthy = members.allSatisfy { number, now in
            guard let then = before.members[number] else { return false }
            return now.connected && now.undecryptable == then.undecryptable && now.heard.values.allSatisfy { $0 }
        }
        guard listenersHealthy, !members.isEmpty else { return 0 }
        return numbers.filter { speaker in
            members.allSatisfy { listener, now in
                listener == speaker
                    || (now.received[speaker] ?? 0) - (before.members[listener]?.received[speaker] ?? 0) >= Self.expected(seconds: seconds) * 95 / 100
            }
        }.count
    }

    /// Calls in which both sides hear each other and SRTP refused nothing during the window.
    func healthyCalls(since before: LoadSample) -> Int {
        zip(calls, before.calls).filter { now, then in now.healthy && now.refused == then.refused }.count
    }

    /// Packets refused or frames unopened during the window.
    func decodeFailures(since before: LoadSample) -> Int {
        let group = members.reduce(0) { $0 + $1.value.undecryptable - (before.members[$1.key]?.undecryptable ?? $1.value.undecryptable) }
        return group + zip(calls, before.calls).reduce(0) { $0 + $1.0.refused - $1.1.refused }
    }

    /// Frames lost over the window, in percent: the group's from the listeners' frame counts
    /// of every member, the calls' from their jitter buffers' loss figures.
    func lossPercent(since before: LoadSample, seconds: Int, all numbers: [String]) -> Double {
        let want = Double(Self.expected(seconds: seconds))
        var expected = 0.0, lost = 0.0
        for (number, now) in members {
            for other in numbers where other != number {
                let got = Double((now.received[other] ?? 0) - (before.members[number]?.received[other] ?? 0))
                expected += want
                lost += max(0, want - got)
            }
        }
        for call in calls {
            for percent in call.loss {
                expected += want
                lost += want * percent / 100
            }
        }
        return expected == 0 ? .nan : lost * 100 / expected
    }
}
