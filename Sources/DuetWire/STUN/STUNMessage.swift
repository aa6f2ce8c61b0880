/// A STUN message (RFC 8489) — also the carrier of TURN (RFC 8656) requests and
/// indications. Parsing refuses anything malformed with a `STUNError`, never a crash.
public struct STUNMessage: Equatable, Sendable {
    public static let magicCookie: UInt32 = 0x2112_A442
    public static let headerLength = 20

    public enum Class: UInt16, Sendable {
        case request = 0b00, indication = 0b01, success = 0b10, error = 0b11
    }

    /// The methods Duet speaks: Binding (STUN) and the TURN subset of RFC 8656.
    public struct Method: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }

        public static let binding = Method(rawValue: 0x001)
        public static let allocate = Method(rawValue: 0x003)
        public static let refresh = Method(rawValue: 0x004)
        public static let send = Method(rawValue: 0x006)
        public static let data = Method(rawValue: 0x007)
        public static let createPermission = Method(rawValue: 0x008)
        public static let channelBind = Method(rawValue: 0x009)

        public var description: String {
            switch self {
            case .binding: "Binding"
            case .allocate: "Allocate"
            case .refresh: "Refresh"
            case .send: "Send"
            case .data: "Data"
            case .createPermission: "CreatePermission"
            case .channelBind: "ChannelBind"
            default: "method 0x" + String(rawValue, radix: 16)
            }
        }
    }

    public var method: Method
    public var messageClass: Class
    /// 96 random bits that pair a response with its request.
    public var transactionID: [UInt8]
    /// Attributes in wire order (order matters for integrity and fingerprint).
    public var attributes: [STUNAttribute]

    public init(method: Method, messageClass: Class, transactionID: [UInt8], attributes: [STUNAttribute] = []) {
        precondition(transactionID.count == Self.transactionIDCount, "a STUN transaction ID is 12 bytes")
        self.method = method
        self.messageClass = messageClass
        self.transactionID = transactionID
        self.attributes = attributes
    }

    /// Bytes in a transaction ID (RFC 8489 §5): 96 bits, random for each request.
    public static let transactionIDCount = 12

    /// A new transaction ID from `random` (DuetWire has no CSPRNG of its own; Duet's clients and
    /// server take theirs from DuetCrypto's `SecureRandom.bytes(transactionIDCount)`).
    public static func randomTransactionID(using random: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<transactionIDCount).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// The 14-bit message type: method bits M0–M11 interleaved with class bits C0 and C1.
    var messageType: UInt16 {
        let m = method.rawValue, c = messageClass.rawValue
        return (m & 0x000F) | ((c & 0b01) << 4) | ((m & 0x0070) << 1) | ((c & 0b10) << 7) | ((m & 0x0F80) << 2)
    }

    static func split(messageType t: UInt16) -> (Method, Class) {
        let method = (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)
        let cls = ((t & 0x0010) >> 4) | ((t & 0x0100) >> 7)
        return (Method(rawValue: method), Class(rawValue: cls)!)
    }

    /// The value of the first attribute of `type`, if any.
    public func first(_ type: STUNAttribute.Kind) -> [UInt8]? {
        attributes.first { $0.type == type.rawValue }?.value
    }
}

/// Why bytes were not accepted as a STUN message.
public enum STUNError: Error, Equatable, CustomStringConvertible {
    case tooShort(Int)
    case notSTUN
    case lengthMismatch(declared: Int, actual: Int)
    case attributeOverrun(type: UInt16)
    case badAttribute(type: UInt16, reason: String)
    case fingerprintMismatch
    case integrityMismatch
    case missingIntegrity

    public var description: String {
        switch self {
        case let .tooShort(n): "STUN message of \(n) bytes is shorter than the 20-byte header"
        case .notSTUN: "not a STUN message (first byte outside 0...3, or magic cookie wrong)"
        case let .lengthMismatch(d, a): "STUN length field says \(d) bytes but \(a) follow the header"
        case let .attributeOverrun(t): "STUN attribute 0x\(String(t, radix: 16)) runs past the end of the message"
        case let .badAttribute(t, r): "STUN attribute 0x\(String(t, radix: 16)) is malformed: \(r)"
        case .fingerprintMismatch: "STUN FINGERPRINT does not match the message"
        case .integrityMismatch: "STUN MESSAGE-INTEGRITY does not verify: wrong credentials or altered message"
        case .missingIntegrity: "STUN message carries no MESSAGE-INTEGRITY"
        }
    }
}

extension STUNMessage {
    /// Parses one datagram. A FINGERPRINT, when present, must be last and must match. What
    /// follows a MESSAGE-INTEGRITY (or -SHA256) is dropped, but for MESSAGE-INTEGRITY-SHA256
    /// after MESSAGE-INTEGRITY and FINGERPRINT (RFC 8489 §14.5): the MAC does not cover it, so
    /// anyone on the path could have added it.
    ///
    /// The first byte must be 0...3, as RFC 7983's demultiplexing assumes (RFC 8489 allows up to
    /// 63, but no method uses the bits above): otherwise bytes the media port routes to DTLS
    /// (20...63) could also be read as STUN by code that parses without demultiplexing first.
    public init(parsing bytes: [UInt8]) throws(STUNError) {
        guard bytes.count >= Self.headerLength else { throw .tooShort(bytes.count) }
        guard bytes[0] <= 3, readUInt32(bytes, 4) == Self.magicCookie else { throw .notSTUN }
        let declared = Int(readUInt16(bytes, 2))
        guard declared % 4 == 0, declared == bytes.count - Self.headerLength else {
            throw .lengthMismatch(declared: declared, actual: bytes.count - Self.headerLength)
        }
        let (method, cls) = Self.split(messageType: readUInt16(bytes, 0))
        var attributes: [STUNAttribute] = []
        var offset = Self.headerLength
        var integrityCovered = true
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else { throw .attributeOverrun(type: 0) }
            let type = readUInt16(bytes, offset), length = Int(readUInt16(bytes, offset + 2))
            let padded = (length + 3) & ~3
            guard offset + 4 + padded <= bytes.count else { throw .attributeOverrun(type: type) }
            if type == STUNAttribute.Kind.fingerprint.rawValue {
                guard length == 4, offset + 8 == bytes.count else {
                    throw .badAttribute(type: type, reason: "FINGERPRINT must be 4 bytes and last")
                }
                var covered = Array(bytes[..<offset])
                writeUInt16(&covered, 2, UInt16(offset + 8 - Self.headerLength))
                guard STUNFingerprint.value(of: covered) == readUInt32(bytes, offset + 4) else { throw .fingerprintMismatch }
            }
            let kept =
                integrityCovered || type == STUNAttribute.Kind.fingerprint.rawValue
                || type == STUNAttribute.Kind.messageIntegritySHA256.rawValue && !attributes.contains { $0.type == type }
            if kept { attributes.append(STUNAttribute(type: type, value: Array(bytes[offset + 4..<offset + 4 + length]))) }
            if type == STUNAttribute.Kind.messageIntegrity.rawValue || type == STUNAttribute.Kind.messageIntegritySHA256.rawValue {
                integrityCovered = false
            }
            offset += 4 + padded
        }
        self.init(method: method, messageClass: cls, transactionID: Array(bytes[8..<20]), attributes: attributes)
    }

    /// The wire form. With `integrity`, a MESSAGE-INTEGRITY (or -SHA256) attribute is added
    /// after the others, computed by the caller's HMAC; with `fingerprint`, FINGERPRINT last.
    public func encoded(integrity: STUNIntegrity? = nil, fingerprint: Bool = false) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.headerLength)
        writeUInt16(&out, 0, messageType)
        writeUInt32(&out, 4, Self.magicCookie)
        out.replaceSubrange(8..<20, with: transactionID)
        for attribute in attributes { attribute.append(to: &out) }
        if let integrity {
            // The length field counts the integrity attribute while the HMAC is computed.
            writeUInt16(&out, 2, UInt16(out.count - Self.headerLength + 4 + integrity.kind.length))
            let mac = integrity.hmac(out)
            precondition(mac.count == integrity.kind.length, "HMAC returned \(mac.count) bytes, not \(integrity.kind.length)")
            STUNAttribute(type: integrity.kind.attribute.rawValue, value: mac).append(to: &out)
        }
        if fingerprint {
            writeUInt16(&out, 2, UInt16(out.count - Self.headerLength + 8))
            let crc = STUNFingerprint.value(of: out)
            STUNAttribute(type: STUNAttribute.Kind.fingerprint.rawValue, value: bytesOf(crc)).append(to: &out)
        }
        writeUInt16(&out, 2, UInt16(out.count - Self.headerLength))
        return out
    }

    /// Checks the message's MESSAGE-INTEGRITY (or -SHA256) against the caller's HMAC over
    /// the raw datagram, as RFC 8489 §14.5 specifies (length adjusted, later attributes ignored).
    public static func verifyIntegrity(of bytes: [UInt8], _ integrity: STUNIntegrity) throws(STUNError) {
        _ = try STUNMessage(parsing: bytes)
        var offset = headerLength
        while offset + 4 <= bytes.count {
            let type = readUInt16(bytes, offset), length = Int(readUInt16(bytes, offset + 2))
            if type == integrity.kind.attribute.rawValue {
                guard length == integrity.kind.length else { throw .badAttribute(type: type, reason: "wrong integrity length") }
                var covered = Array(bytes[..<offset])
                writeUInt16(&covered, 2, UInt16(offset + 4 + length - headerLength))
                let expected = integrity.hmac(covered)
                let actual = Array(bytes[offset + 4..<offset + 4 + length])
                // Constant-time: the MAC is secret-derived.
                guard expected.count == actual.count, zip(expected, actual).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
                    throw .integrityMismatch
                }
                return
            }
            offset += 4 + ((length + 3) & ~3)
        }
        throw .missingIntegrity
    }
}

/// Which integrity attribute, and the HMAC that fills it (DuetWire has no crypto: the
/// caller brings HMAC-SHA1 for TURN servers, or HMAC-SHA256 between Duet peers).
public struct STUNIntegrity: Sendable {
    public enum Kind: Sendable {
        case sha1, sha256
        var length: Int { self == .sha1 ? 20 : 32 }
        var attribute: STUNAttribute.Kind { self == .sha1 ? .messageIntegrity : .messageIntegritySHA256 }
    }

    public let kind: Kind
    public let hmac: @Sendable ([UInt8]) -> [UInt8]

    public init(kind: Kind, hmac: @escaping @Sendable ([UInt8]) -> [UInt8]) {
        self.kind = kind
        self.hmac = hmac
    }
}

func readUInt16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
func readUInt32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(readUInt16(b, i)) << 16 | UInt32(readUInt16(b, i + 2)) }
func writeUInt16(_ b: inout [UInt8], _ i: Int, _ v: UInt16) {
    b[i] = UInt8(v >> 8)
    b[i + 1] = UInt8(v & 0xFF)
}
func writeUInt32(_ b: inout [UInt8], _ i: Int, _ v: UInt32) {
    writeUInt16(&b, i, UInt16(v >> 16))
    writeUInt16(&b, i + 2, UInt16(v & 0xFFFF))
}
func bytesOf(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
func bytesOf(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
