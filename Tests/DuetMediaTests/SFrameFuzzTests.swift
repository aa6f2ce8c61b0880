import DuetCrypto
import DuetFuzzing
import Testing

@testable import DuetMedia

/// Group-call frames reach a member after the SFU, which could alter or replay them, so the
/// SFrame header parser and the receiver get any bytes a hostile router can send. Mutations of
/// real frames — 3-bit and 8-byte KIDs and counters, with and without metadata — must decode
/// to the one minimal header they encode, or fail with `SFrameError`; and a receiver opens
/// only the genuine frames, once each, never a mutated one and never under a wrong key.
@Suite("SFrame fuzz")
struct SFrameFuzzTests {
    struct Sample {
        let frame: [UInt8]
        let plaintext: [UInt8]
        let metadata: [UInt8]
    }

    /// Frames from real senders under KIDs from 0 to 2^64-1, counters from 0 to 2^40.
    static func samples(keys: [UInt64: SecureBytes]) throws -> [Sample] {
        var samples: [Sample] = []
        for (keyID, key) in keys.sorted(by: { $0.key < $1.key }) {
            let sender = try SFrameSender()
            try sender.setKey(key, keyID: keyID)
            for (index, counter) in [0, 7, 8, 300, 1 << 40].enumerated() {
                sender.skipCounter(to: UInt64(counter))
                let plaintext = Array(repeating: UInt8(index), count: [0, 1, 40, 160, 3][index])
                let metadata: [UInt8] = index % 2 == 0 ? [] : [0x80, 111, UInt8(index)]
                samples.append(Sample(frame: try sender.encrypt(plaintext, metadata: metadata), plaintext: plaintext, metadata: metadata))
            }
        }
        return samples
    }

    static func keys(_ seed: UInt8) -> [UInt64: SecureBytes] {
        Dictionary(
            uniqueKeysWithValues: ([0, 7, 8, 0x1_0000_0000, .max] as [UInt64]).enumerated().map { index, keyID in
                (keyID, SecureBytes(copying: (0..<32).map { UInt8(truncatingIfNeeded: $0 * 7 + index) ^ seed }))
            })
    }

    @Test func headersDecodeToTheirMinimalEncodingOrFailTyped() throws {
        let frames = try Self.samples(keys: Self.keys(1)).map(\.frame)
        let headers = [SFrameHeader(keyID: 0, counter: 0), SFrameHeader(keyID: .max, counter: .max), SFrameHeader(keyID: 8, counter: 7)]
        for header in headers {
            let decoded = try SFrameHeader.decode(header.encoded())
            #expect(decoded.header == header && decoded.length == header.encodedLength)
        }
        let report = FuzzTarget("SFrame headers", defaultIterations: 4000).run(samples: frames + headers.map { $0.encoded() }) { input, _ in
            let decoded: (header: SFrameHeader, length: Int)
            do { decoded = try SFrameHeader.decode(input) } catch { return .rejected }
            try ensure(
                decoded.length == decoded.header.encodedLength && decoded.length <= input.count,
                "a \(decoded.length)-byte header that encodes in \(decoded.header.encodedLength)")
            try ensure(decoded.header.encoded() == Array(input.prefix(decoded.length)), "\(decoded.header) encodes to other bytes")
            return .accepted
        }
        #expect(report.isClean, "\(report)")
        #expect(report.reachedBothOutcomes, "\(report)")
    }

    @Test func receiversOpenOnlyGenuineFramesOnce() throws {
        let keys = Self.keys(1)
        let samples = try Self.samples(keys: keys)
        let receiver = try SFrameReceiver(), stranger = try SFrameReceiver()
        for (keyID, key) in keys {
            try receiver.addKey(key, keyID: keyID)
            try stranger.addKey(Self.keys(2)[keyID]!, keyID: keyID)
        }
        // One instant for the whole run: no key retires while the fuzzer works.
        let now = ContinuousClock.now
        var opened: Set<[UInt8]> = []
        let report = FuzzTarget("SFrame receiver", defaultIterations: 4000).run(samples: samples.map(\.frame)) { input, random in
            let metadata = Bool.random(using: &random) ? [] : samples.randomElement(using: &random)!.metadata
            if let plain = try? stranger.decrypt(input, metadata: metadata, now: now) {
                throw FuzzViolation("opened under a wrong key: \(plain.header)")
            }
            let plain: SFramePlaintext
            do { plain = try receiver.decrypt(input, metadata: metadata, now: now) } catch { return .rejected }
            guard let genuine = samples.first(where: { $0.frame == input }) else { throw FuzzViolation("opened a frame no sender made") }
            try ensure(genuine.metadata == metadata && plain.payload == genuine.plaintext, "opened with other metadata or to other bytes")
            try ensure(opened.insert(input).inserted, "opened the same frame twice (replay)")
            return .accepted
        }
        #expect(report.isClean, "\(report)")
    }
}
