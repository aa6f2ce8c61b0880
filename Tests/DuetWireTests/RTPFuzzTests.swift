import Testing
import DuetWire

@Suite("RTP parser fuzz")
struct RTPFuzzTests {
    /// Whatever the bytes, the parser returns a packet or a typed error; and every packet it
    /// accepts writes back to the same bytes (padding contents aside).
    @Test func randomBuffersNeverTrapAndAcceptedOnesRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        var accepted = 0, rejected = 0
        var mismatches: [[UInt8]] = []
        for _ in 0..<30_000 {
            let length = Int.random(in: 0...96, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Half the buffers get version 2 and small CSRC/extension fields, to reach past
            // the first check into the CSRC, extension and padding logic.
            if length > 0, Bool.random(using: &rng) {
                bytes[0] = 0x80 | (bytes[0] & 0x30) | (bytes[0] & 0x03)
                if length > 15 && bytes[0] & 0x10 != 0 && Bool.random(using: &rng) {
                    let at = 12 + 4 * Int(bytes[0] & 0x0F)
                    if at + 3 < length { bytes[at + 2] = 0; bytes[at + 3] = UInt8.random(in: 0...4, using: &rng) }
                }
            }
            do {
                let packet = try RTPPacket(parsing: bytes)
                accepted += 1
                let rewritten = try packet.serialized()
                let padding = Int(packet.paddingLength)
                let same = rewritten.count == bytes.count
                    && rewritten.prefix(bytes.count - padding) == bytes.prefix(bytes.count - padding)
                    && (padding == 0 || rewritten.last == bytes.last)
                if !same { mismatches.append(bytes) }
                if (try? RTPPacket.headerLength(of: bytes)) == nil { mismatches.append(bytes) }
            } catch {
                rejected += 1
            }
        }
        #expect(mismatches.isEmpty, "first mismatch: \(mismatches.first ?? [])")
        // Both paths were exercised, or the test proves nothing.
        #expect(accepted > 5_000)
        #expect(rejected > 5_000)
    }

    /// Every prefix of valid packets: shorter than the header must fail with a length error.
    @Test func truncatedPacketsAreRejected() throws {
        var rng = SplitMix64(seed: 0x5EED_0002)
        var checked = 0
        for round in 0..<200 {
            let csrcs = (0..<Int.random(in: 0...15, using: &rng)).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) }
            let elements = (0..<Int.random(in: 0...3, using: &rng)).map { i in
                RTPExtensionElement(id: UInt8(i + 1), data: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            }
            let packet = RTPPacket(
                payloadType: UInt8.random(in: 0...127, using: &rng), sequenceNumber: .random(in: 0...UInt16.max, using: &rng),
                timestamp: .random(in: 0...UInt32.max, using: &rng), ssrc: .random(in: 0...UInt32.max, using: &rng),
                marker: round % 2 == 0, csrcs: csrcs,
                headerExtension: elements.isEmpty ? nil : try RTPHeaderExtension(oneByteElements: elements),
                payload: (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                paddingLength: round % 3 == 0 ? UInt8.random(in: 1...32, using: &rng) : 0
            )
            let bytes = try packet.serialized()
            #expect(try RTPPacket(parsing: bytes) == packet)
            let headerLength = try RTPPacket.headerLength(of: bytes)
            for cut in 0..<headerLength {
                do {
                    _ = try RTPPacket(parsing: Array(bytes.prefix(cut)))
                    Issue.record("a \(cut)-byte prefix of a \(headerLength)-byte header parsed")
                } catch {
                    switch error {
                    case .tooShort, .csrcListBeyondPacket, .extensionBeyondPacket: checked += 1
                    default: Issue.record("prefix \(cut): unexpected \(error)")
                    }
                }
            }
            // Longer prefixes may parse (the payload is opaque) but must never trap.
            for cut in headerLength..<bytes.count { _ = try? RTPPacket(parsing: Array(bytes.prefix(cut))) }
        }
        #expect(checked > 1_000)
    }
}
