import Foundation

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
    /// Datagrams the kernel dropped at every UDP socket of the machine (loopback here) that is
    /// read: where loss comes from when a reader falls behind. The group's talkers' sockets are
    /// left out: they stop reading by design, so all the SFU sends them is dropped there.
    let readerSocketDrops: Int
    /// Of those, the server's media socket's own (it fell behind reading).
    let serverSocketDrops: Int
    /// Frames every group member has sent so far (talkers included), and datagrams the
    /// listeners lost on their side: dropped by the kernel at their sockets (the event loop
    /// fell behind reading) or in this process (the engine fell behind taking them).
    let groupFramesSent: Int
    let listenerOverflow: Int
    let serverCPU: Double
    let serverPeakMemory: Double
    let ownCPU: Double
    let members: [String: Member]
    /// Per call: both sides hear each other, and the packets SRTP refused so far.
    let calls: [(healthy: Bool, refused: Int, loss: [Double])]

    init(server: LoadServerProcess, members: [LoadDevice], callers: [LoadDevice], callees: [LoadDevice]) async {
        serverCPU = server.cpuSeconds
        serverPeakMemory = server.peakMemory
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        ownCPU =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(
                usage.ru_stime.tv_usec) / 1e6
        let drops = Self.socketDropsByPort()
        serverSocketDrops = drops[server.media.port] ?? 0
        var views: [String: Member] = [:], sent = 0, overflow = 0, unread = 0
        for member in members {
            guard let snapshot = await member.groupEngine.snapshot() else { continue }
            sent += snapshot.framesSent
            guard member.listens else {
                unread += drops[Int(snapshot.legAddress.port)] ?? 0
                continue
            }
            overflow += snapshot.datagramsOverflowed + (drops[Int(snapshot.legAddress.port)] ?? 0)
            let decoded = members.map(\.number).filter { $0 != member.number && (member.decodes?.contains($0) ?? true) }
            views[member.number] = Member(
                connected: snapshot.mediaConnected, undecryptable: snapshot.undecryptable,
                received: snapshot.hearing.mapValues(\.received),
                heard: Dictionary(uniqueKeysWithValues: decoded.map { ($0, snapshot.hearing[$0]?.heard == true) }))
        }
        self.members = views
        groupFramesSent = sent
        listenerOverflow = overflow
        readerSocketDrops = drops.values.reduce(0, +) - unread
        calls = zip(callers, callees).map { caller, callee in
            guard let a = caller.hearing, let b = callee.hearing else { return (false, 0, []) }
            let refused = a.tamperedPackets + a.replayedPackets + b.tamperedPackets + b.replayedPackets
            let hear = a.speaker?.contains(callee.number) == true && b.speaker?.contains(caller.number) == true
            return (hear, refused, [a.lossPercent, b.lossPercent])
        }
    }

    /// A file of /proc, whole. (`String(contentsOfFile:)` and `FileManager.contents(atPath:)`
    /// stop after the first read of a proc file, which reports a size of 0: about 30 rows of
    /// /proc/net/udp, where the loaded machine has hundreds. A file handle reads to the end.)
    static func procFile(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.readToEnd()).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The kernel's drop count of every UDP socket, by local port (/proc/net/udp and udp6 —
    /// devices' media sockets are dual-stack —: the local address is IP:PORT in hex, drops the
    /// last column), read once per sample.
    static func socketDropsByPort() -> [Int: Int] {
        let tables = ["/proc/net/udp", "/proc/net/udp6"].compactMap { Self.procFile($0) }
        var drops: [Int: Int] = [:]
        for row in tables.flatMap({ $0.split(separator: "\n").dropFirst() }) {
            let fields = row.split(separator: " ")
            guard fields.count > 12, let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                let count = Int(fields[fields.count - 1])
            else { continue }
            drops[port, default: 0] += count
        }
        return drops
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
                    || (now.received[speaker] ?? 0) - (before.members[listener]?.received[speaker] ?? 0) >= Self.expected(seconds: seconds)
                        * 95 / 100
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
