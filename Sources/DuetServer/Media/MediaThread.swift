import CDuetSocket
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The media port's own thread (docs/server.md "The media port's thread"): it owns the
/// `MediaLoop`, which waits in `epoll_wait` on the media port, every relayed socket and this
/// object's wake-up descriptor. Other threads reach the loop only by `submit`ting jobs, which
/// it runs between reads, one at a time, in order.
///
/// Why a thread below SwiftNIO: a relayed datagram through NIO cost an envelope, a socket
/// address described as text, a buffer and a pipeline walk, and was the whole of what the
/// relay cost beyond coturn (docs/performance.md "Relay against coturn").
final class MediaThread: Sendable {
    /// Work for the loop; given nil once the loop has ended, so whoever waits on it can go on.
    typealias Job = @Sendable (MediaLoop?) -> Void

    /// What the loop did over its life, and why it ended if not by `stop()`.
    struct Report: Sendable {
        var counts: [String: Int]
        var failure: SocketError?
        /// False when the loop could not be made (`failure` says why): nothing ever ran.
        var started: Bool
    }

    private struct State {
        var jobs: [Job] = []
        var stopping = false
        var report: Report?
        var waiters: [CheckedContinuation<Report, Never>] = []
    }

    /// An eventfd: written when a job is queued or the loop is asked to stop.
    let wakeDescriptor: Int32
    private let state = Mutex(State())

    private init(wakeDescriptor: Int32) {
        self.wakeDescriptor = wakeDescriptor
    }

    // Closed only here: `submit` and `stop` may ring it after the loop has ended.
    deinit { close(wakeDescriptor) }

    /// Starts the thread; `makeLoop` runs on it and the loop never leaves it.
    static func start(name: String, _ makeLoop: @escaping @Sendable (MediaThread) throws(SocketError) -> MediaLoop) throws(SocketError)
        -> MediaThread
    {
        let wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else { throw .last("eventfd") }
        let media = MediaThread(wakeDescriptor: wake)
        let thread = Thread {
            var failure: SocketError?
            var counts: [String: Int] = [:]
            var started = false
            do throws(SocketError) {
                let loop = try makeLoop(media)
                started = true
                failure = loop.run(on: media)
                counts = loop.stop()
            } catch {
                failure = error
            }
            media.end(Report(counts: counts, failure: failure, started: started))
        }
        thread.name = name
        // OpenSSL's DTLS handshakes run on it: a thread's usual stack, not Foundation's 512 KiB.
        thread.stackSize = 8 << 20
        thread.start()
        return media
    }

    /// Queues `job` for the loop; runs it at once with nil if the loop has ended.
    func submit(_ job: @escaping Job) {
        let queued = state.withLock { state in
            guard state.report == nil else { return false }
            state.jobs.append(job)
            return true
        }
        guard queued else { return job(nil) }
        ring()
    }

    /// Asks the loop to end after the jobs queued so far.
    func stop() {
        state.withLock { $0.stopping = true }
        ring()
    }

    /// Waits until the loop has ended.
    func finished() async -> Report {
        await withCheckedContinuation { continuation in
            let report: Report? = state.withLock { state in
                if state.report == nil { state.waiters.append(continuation) }
                return state.report
            }
            if let report { continuation.resume(returning: report) }
        }
    }

    /// On the thread: the queued jobs, and whether the loop should end after them.
    func takeJobs() -> (jobs: [Job], stopping: Bool) {
        var count: UInt64 = 0
        _ = read(wakeDescriptor, &count, 8)
        return state.withLock { state in
            defer { state.jobs.removeAll() }
            return (state.jobs, state.stopping)
        }
    }

    private func ring() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    private func end(_ report: Report) {
        let (jobs, waiters) = state.withLock { state in
            state.report = report
            defer {
                state.jobs.removeAll()
                state.waiters.removeAll()
            }
            return (state.jobs, state.waiters)
        }
        for job in jobs { job(nil) }
        for waiter in waiters { waiter.resume(returning: report) }
    }
}
