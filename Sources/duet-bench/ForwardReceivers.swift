import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where the forwarding benches count what the server sent: one thread reading every receiving
/// socket (poll, then recv until empty), counting datagrams and reading nothing else of them —
/// except one in `sampleEvery` per socket, which `verify` checks (SRTP opened with the leg's
/// key, a relayed payload compared with what was sent). A forwarder that sends garbage, or the
/// wrong packets to the wrong place, then shows failures, and the bench gives it no figure.
final class ForwardReceivers: Sendable {
    /// Checks one sampled datagram of socket `index`; called on the receiving thread only.
    typealias Verifier = @Sendable (_ index: Int, _ datagram: UnsafeRawBufferPointer) -> Bool

    let sockets: [LoopbackSocket]
    let received = Atomic<Int>(0)
    let verified = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let verify: Verifier
    static let sampleEvery = 97

    /// Starts the receiving thread at once.
    init(_ sockets: [LoopbackSocket], verify: @escaping Verifier) {
        self.sockets = sockets
        self.verify = verify
        Thread { [self] in
            self.loop()
            self.finished.store(true, ordering: .releasing)
        }.start()
    }

    /// Counters at one moment, for a window's edges.
    struct Counts {
        var received = 0, verified = 0, failed = 0
    }

    var counts: Counts {
        Counts(
            received: received.load(ordering: .relaxed), verified: verified.load(ordering: .relaxed),
            failed: failed.load(ordering: .relaxed))
    }

    /// Stops the thread and waits for it (it wakes at least every 20 ms).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
    }

    private func loop() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
        defer { buffer.deallocate() }
        var waiting = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        var seen = [Int](repeating: 0, count: sockets.count)
        while !stopping.load(ordering: .relaxed) {
            guard poll(&waiting, nfds_t(waiting.count), 20) > 0 else { continue }
            var got = 0, good = 0, bad = 0
            for index in waiting.indices where waiting[index].revents & Int16(POLLIN) != 0 {
                // At most a few hundred from one socket before the others get their turn.
                for _ in 0..<512 {
                    guard let count = sockets[index].receive(into: buffer) else { break }
                    got += 1
                    seen[index] += 1
                    if seen[index] % Self.sampleEvery == 1 {
                        if verify(index, UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { good += 1 } else { bad += 1 }
                    }
                }
            }
            received.add(got, ordering: .relaxed)
            if good > 0 { verified.add(good, ordering: .relaxed) }
            if bad > 0 { failed.add(bad, ordering: .relaxed) }
        }
    }
}
