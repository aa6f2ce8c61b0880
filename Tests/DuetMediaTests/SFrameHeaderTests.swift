import DuetMedia
import Foundation
import Testing

/// The RFC 9605 test-vector file (Appendix C), decoded with Codable straight into UInt64:
/// the KIDs and CTRs above 2^53 would be corrupted by any path through Double.
struct SFrameVectors: Decodable {
    struct Header: Decodable {
        let kid: UInt64
        let ctr: UInt64
        let encoded: String
    }

    struct Frame: Decodable {
        let cipher_suite: UInt16
        let kid: UInt64
        let ctr: UInt64
        let base_key: String
        let sframe_key_label: String
        let sframe_salt_label: String
        let sframe_secret: String
        let sframe_key: String
        let sframe_salt: String
        let metadata: String
        let nonce: String
        let aad: String
        let pt: String
        let ct: String
    }

    let header: [Header]
    let sframe: [Frame]

    static func load() throws -> SFrameVectors {
        try JSONDecoder().decode(SFrameVectors.self, from: SFrameVectorFile.data("sframe-rfc9605.json"))
    }
}

@Suite("SFrame header")
struct SFrameHeaderTests {
    @Test func theVectorFileDecodesWithoutLosingPrecision() throws {
        let vectors = try SFrameVectors.load().header
        #expect(vectors.count == 289)
        #expect(vectors.filter { $0.kid > 1 << 53 || $0.ctr > 1 << 53 }.count == 93)
        #expect(vectors.contains { $0.kid == .max && $0.ctr == .max && $0.encoded == "ff" + String(repeating: "ff", count: 16) })
    }

    @Test func encodesAndDecodesEveryRFCVector() throws {
        var wrong: [String] = []
        for vector in try SFrameVectors.load().header {
            let header = SFrameHeader(keyID: vector.kid, counter: vector.ctr)
            let expected = SecureHex.bytes(vector.encoded)
            if header.encoded() != expected || header.encodedLength != expected.count {
                wrong.append("encode \(vector.kid)/\(vector.ctr)")
            }
            // Decoding reads only the header, whatever follows it.
            let decoded = try SFrameHeader.decode(expected + [0xAB, 0xCD])
            if decoded.header != header || decoded.length != expected.count { wrong.append("decode \(vector.encoded)") }
        }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test func everyTruncatedVectorIsRejected() throws {
        for vector in try SFrameVectors.load().header {
            let bytes = SecureHex.bytes(vector.encoded)
            #expect(throws: SFrameError.malformedHeader(.empty)) { try SFrameHeader.decode([]) }
            for cut in 1..<bytes.count {
                #expect(throws: SFrameError.malformedHeader(.truncated(needed: bytes.count, length: cut))) {
                    try SFrameHeader.decode(Array(bytes.prefix(cut)))
                }
            }
        }
    }

    @Test func nonMinimalEncodingsAreRejected() {
        // KID 5 in an extended byte; CTR 0xFF in two bytes; KID 0x100 in three bytes.
        #expect(throws: SFrameError.malformedHeader(.nonMinimalKeyID)) { try SFrameHeader.decode([0x80, 0x05]) }
        #expect(throws: SFrameError.malformedHeader(.nonMinimalCounter)) { try SFrameHeader.decode([0x09, 0x00, 0xFF]) }
        #expect(throws: SFrameError.malformedHeader(.nonMinimalKeyID)) { try SFrameHeader.decode([0xA0, 0x00, 0x01, 0x00]) }
    }

    @Test func randomValuesRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            // Spread over every byte length, not just the (overwhelmingly likely) 8-byte values.
            let kid = UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng)
            let ctr = UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng)
            let header = SFrameHeader(keyID: kid, counter: ctr)
            let decoded = try SFrameHeader.decode(header.encoded())
            #expect(decoded.header == header)
            #expect(decoded.length <= SFrameHeader.maximumLength)
        }
    }
}
