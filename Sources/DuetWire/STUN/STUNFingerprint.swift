/// The FINGERPRINT value: CRC-32 (ISO-HDLC, as in zlib) of the message so far, XORed with
/// 0x5354554E ("STUN"). A checksum that tells STUN from other traffic, not a security check.
enum STUNFingerprint {
    static let xorValue: UInt32 = 0x5354_554E

    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func value(of bytes: [UInt8]) -> UInt32 { crc32(bytes) ^ xorValue }
}
