import DuetMedia
import DuetServer
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a meeting recording costs the server: seconds of a 4-participant meeting that one
/// core can jitter-buffer, decode, mix, re-encode, write as Ogg and encrypt per second of CPU
/// (`recording_mix_realtime_x`), so an operator knows how many recorded meetings a core holds.
/// The participants' frames are encoded before timing: on a real server that is their
/// devices' work. Thread CPU time, median of rounds, as the other benches.
enum RecordingBench {
    static let rounds = 5
    static let participants = 4
    static let seconds = 10

    static func run(report: BenchReport) {
        do {
            let frames = try participantFrames()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("duet-bench-rec-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let key = try RecordingMasterKey.loadOrCreate(dataDirectory: folder)
            var cpu: [Double] = []
            for round in 0..<(rounds + 1) {
                let recorder = try MeetingRecorder(
                    id: RecordingID("bench-\(round)"), meetingCode: "ben-chma-rks",
                    dataDirectory: folder, masterKey: key)
                let start = threadCPUTime()
                for tick in 0..<(seconds * 50) {
                    for (index, lane) in frames.enumerated() {
                        recorder.receive(
                            participant: "p\(index)", opusFrame: lane[tick], sequenceNumber: UInt16(tick),
                            timestamp: UInt32(tick * AudioFormat.samplesPerFrame))
                    }
                    try recorder.tick()
                }
                try recorder.finish()
                if round > 0 { cpu.append(threadCPUTime() - start) }  // round 0 warms up
            }
            report.figure("recording_mix_realtime_x", Double(seconds) / Timing.median(cpu), unit: "x")
        } catch {
            print("recording_bench_error 1 error  # \(error)")
        }
    }

    /// Each participant speaks all the time (the costly case: every lane decodes real speech).
    private static func participantFrames() throws -> [[[UInt8]]] {
        try (0..<participants).map { index in
            var voice = SyntheticVoice(number: "+1555020\(index)")
            let encoder = try OpusEncoder()
            return try (0..<(seconds * 50)).map { _ in try encoder.encode(voice.nextFrame()) }
        }
    }

    private static func threadCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
