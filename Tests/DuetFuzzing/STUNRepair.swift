@testable import DuetWire

/// Makes a mutated STUN message's checks agree with its bytes again: the header's length
/// field, MESSAGE-INTEGRITY(-SHA256) under the test's credentials, and FINGERPRINT. Applied to
/// half the inputs of STUN fuzzing, so mutated attributes are read by the code behind those
/// checks (TURN's request handlers) instead of stopping at them. Anything that does not walk
/// as STUN attributes is left as it is, up to where the walk stops.
public enum STUNRepair {
    public static func reseal(_ input: [UInt8], integrity: (STUNIntegrity.Kind) -> STUNIntegrity) -> [UInt8] {
        var bytes = input
        guard bytes.count >= STUNMessage.headerLength, (bytes.count - STUNMessage.headerLength) % 4 == 0 else { return bytes }
        writeUInt16(&bytes, 2, UInt16(truncatingIfNeeded: bytes.count - STUNMessage.headerLength))
        var offset = STUNMessage.headerLength
        while offset + 4 <= bytes.count {
            let type = readUInt16(bytes, offset), length = Int(readUInt16(bytes, offset + 2))
            let end = offset + 4 + length
            guard end <= bytes.count else { break }
            var covered = Array(bytes[..<offset])
            writeUInt16(&covered, 2, UInt16(truncatingIfNeeded: end - STUNMessage.headerLength))
            switch (STUNAttribute.Kind(rawValue: type), length) {
            case (.messageIntegrity?, 20): bytes.replaceSubrange(offset + 4..<end, with: integrity(.sha1).hmac(covered))
            case (.messageIntegritySHA256?, 32): bytes.replaceSubrange(offset + 4..<end, with: integrity(.sha256).hmac(covered))
            case (.fingerprint?, 4): bytes.replaceSubrange(offset + 4..<end, with: bytesOf(STUNFingerprint.value(of: covered)))
            default: break
            }
            offset += 4 + ((length + 3) & ~3)
        }
        return bytes
    }
}
