import DuetMedia
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opus cost on this machine with Duet's call settings (VOIP, 28 kbit/s, FEC, complexity 10,
/// speech signal), so `make bench` shows how many calls a core can carry.
///
/// Times are the thread's CPU time, not wall time: the build machine is shared and wall
/// time would mostly measure the neighbours. Each figure is the median of several rounds.
enum OpusBench {
    static let rounds = 7
    static let framesPerRound = 250  // 5 s of audio

    static func run(report: BenchReport) {
        do {
            var voice = SyntheticVoice(number: "+15551234")
            let frames = (0..<framesPerRound).map { _ in voice.nextFrame() }
            let packets = try encodeAll(frames, encoder: OpusEncoder())  // warm-up, and input for decoding

            var encodeSeconds: [Double] = []
            var decodeSeconds: [Double] = []
            for _ in 0..<rounds {
                let encoder = try OpusEncoder()
                encodeSeconds.append(try cpuSeconds { _ = try encodeAll(frames, encoder: encoder) })
                let decoder = try OpusDecoder()
                decodeSeconds.append(try cpuSeconds { for packet in packets { _ = try decoder.decode(packet) } })
            }
            let encode = Timing.median(encodeSeconds)
            let decode = Timing.median(decodeSeconds)
            let audioSeconds = Double(framesPerRound * AudioFormat.frameDurationMilliseconds) / 1000
            report.figure("opus_encode_us_per_frame", encode / Double(framesPerRound) * 1e6, unit: "us")
            report.figure("opus_decode_us_per_frame", decode / Double(framesPerRound) * 1e6, unit: "us")
            report.figure("opus_encode_realtime_x", audioSeconds / encode, unit: "x")
        } catch {
            print("opus_bench_error 1 error  # \(error)")
        }
    }

    private static func encodeAll(_ frames: [[Int16]], encoder: OpusEncoder) throws -> [[UInt8]] {
        try frames.map { try encoder.encode($0) }
    }

    /// CPU seconds this thread spent in `body`.
    static func cpuSeconds(_ body: () throws -> Void) rethrows -> Double {
        let start = threadCPUTime()
        try body()
        return threadCPUTime() - start
    }

    private static func threadCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
