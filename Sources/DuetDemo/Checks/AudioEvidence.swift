import DuetMedia

/// What bytes on the wire would sound like to someone who kept them: the ciphertext checks
/// play captured payloads as Opus and look for a voice in them, and compare them with the
/// frames the senders' encoders really produce. Each voice is looked for alone: with several
/// candidates the analyser names nobody when two share a pitch slot, which would let a leak
/// pass as "nobody's voice".
enum AudioEvidence {
    /// Plays `payloads` as consecutive Opus frames; a frame the decoder refuses is concealed,
    /// as a receiver would.
    static func play(_ payloads: [[UInt8]]) throws -> [Int16] {
        let decoder = try OpusDecoder()
        var samples: [Int16] = []
        samples.reserveCapacity(payloads.count * AudioFormat.samplesPerFrame)
        for payload in payloads {
            if !payload.isEmpty, let decoded = try? decoder.decode(payload) {
                samples += decoded
            } else {
                samples += try decoder.concealLoss()
            }
        }
        return samples
    }

    /// The voices among `numbers` found in `samples`, each looked for alone.
    static func voices(in samples: [Int16], of numbers: [String]) -> [String] {
        numbers.filter { VoiceAnalyser(numbers: [$0]).analyse(samples).speaker != nil }
    }

    /// The first `count` Opus frames `number`'s device encodes (its voice and encoder are
    /// deterministic), to look for in what the server carried.
    static func plaintextFrames(of number: String, count: Int) throws -> Set<[UInt8]> {
        var voice = SyntheticVoice(number: number)
        let encoder = try OpusEncoder(configuration: .init())
        var frames = Set<[UInt8]>()
        for _ in 0..<count { frames.insert(try encoder.encode(voice.nextFrame())) }
        return frames
    }

    /// In how many one-second windows (half a second apart) of `samples` each voice is found.
    static func windows(in samples: [Int16], of numbers: [String]) -> [String: Int] {
        let window = AudioFormat.sampleRate
        var found: [String: Int] = [:]
        for start in stride(from: 0, to: max(0, samples.count - window + 1), by: window / 2) {
            for number in voices(in: Array(samples[start..<start + window]), of: numbers) { found[number, default: 0] += 1 }
        }
        return found
    }
}
