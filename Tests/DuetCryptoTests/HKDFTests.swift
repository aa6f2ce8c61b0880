import Testing

@testable import DuetCrypto

@Suite("HKDF (RFC 5869)")
struct HKDFTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let number: String, ikm: [UInt8], salt: [UInt8], info: [UInt8], length: Int, prk: [UInt8], okm: [UInt8]
        var testDescription: String { "test case \(number)" }
    }

    /// The SHA-256 cases 1–3 from the one-line table at the end of the vector file.
    static func cases() throws -> [Case] {
        try VectorFile.text("hkdf-rfc5869.txt").split(separator: "\n")
            .filter { $0.first?.isNumber == true && $0.contains(",") }
            .map { line in
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                return Case(
                    number: f[0], ikm: .init(hex: f[1]), salt: .init(hex: f[2]), info: .init(hex: f[3]),
                    length: Int(f[4])!, prk: .init(hex: f[5]), okm: .init(hex: f[6]))
            }
    }

    @Test func allThreeCasesArePresent() throws {
        #expect(try Self.cases().map(\.number) == ["1", "2", "3"])
    }

    @Test(arguments: try HKDFTests.cases())
    func rfcCase(_ c: Case) throws {
        let prk = HKDF.extract(.sha256, salt: c.salt, inputKeyMaterial: SecureBytes(copying: c.ikm))
        #expect(prk.withUnsafeBytes { Array($0) } == c.prk)
        let okm = try HKDF.expand(.sha256, pseudorandomKey: prk, info: c.info, length: c.length)
        #expect(okm.withUnsafeBytes { Array($0) } == c.okm)
    }

    @Test func refusesOutputLongerThan255Blocks() {
        let prk = SecureBytes(randomCount: 32)
        #expect(throws: HKDF.OutputTooLong.self) { try HKDF.expand(.sha256, pseudorandomKey: prk, info: [], length: 255 * 32 + 1) }
        #expect(throws: Never.self) { try HKDF.expand(.sha512, pseudorandomKey: prk, info: [], length: 255 * 32 + 1) }
    }

    /// The non-throwing `count:` forms give exactly what the checked `length:` forms give, up to
    /// the largest count a UInt8 holds, for both hashes; and RFC 5869's case 1 (42 bytes) through them.
    @Test func fixedCountFormsMatchTheCheckedOnes() throws {
        let ikm = SecureBytes(copying: [UInt8](repeating: 0x0b, count: 22))
        for hash in [HKDFHash.sha256, .sha512] {
            let prk = HKDF.extract(hash, salt: [0x01], inputKeyMaterial: ikm)
            for count: UInt8 in [1, 4, 12, 32, 33, 64, 255] {
                let fixed = HKDF.expand(hash, pseudorandomKey: prk, info: [0xf0], count: count)
                let checked = try HKDF.expand(hash, pseudorandomKey: prk, info: [0xf0], length: Int(count))
                #expect(fixed.count == Int(count))
                #expect(fixed.constantTimeEquals(checked))
                let derived = HKDF.deriveKey(hash, inputKeyMaterial: ikm, salt: [0x01], info: [0xf0], count: count)
                #expect(derived.constantTimeEquals(checked))
            }
        }
        let first = try #require(try Self.cases().first)
        let okm = HKDF.deriveKey(.sha256, inputKeyMaterial: SecureBytes(copying: first.ikm), salt: first.salt, info: first.info, count: 42)
        #expect(okm.withUnsafeBytes { Array($0) } == first.okm)
    }

    @Test func sha512DiffersFromSha256AndIsDeterministic() throws {
        let ikm = SecureBytes(copying: [UInt8](repeating: 0x0b, count: 22))
        let a = try HKDF.deriveKey(.sha512, inputKeyMaterial: ikm, salt: [], info: [], length: 64)
        let b = try HKDF.deriveKey(.sha512, inputKeyMaterial: ikm, salt: [], info: [], length: 64)
        let c = try HKDF.deriveKey(.sha256, inputKeyMaterial: ikm, salt: [], info: [], length: 64)
        #expect(a.constantTimeEquals(b))
        #expect(!a.constantTimeEquals(c))
    }
}
