/// One type-length-value attribute of a STUN message; values are padded to 4 bytes on the wire.
public struct STUNAttribute: Equatable, Sendable {
    public let type: UInt16
    public let value: [UInt8]

    public init(type: UInt16, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public init(_ kind: Kind, _ value: [UInt8]) {
        self.init(type: kind.rawValue, value: value)
    }

    /// The attributes Duet reads or writes (RFC 8489, 8656, 8445).
    public enum Kind: UInt16, Sendable {
        case mappedAddress = 0x0001
        case username = 0x0006
        case messageIntegrity = 0x0008
        case errorCode = 0x0009
        case unknownAttributes = 0x000A
        case channelNumber = 0x000C
        case lifetime = 0x000D
        case xorPeerAddress = 0x0012
        case data = 0x0013
        case realm = 0x0014
        case nonce = 0x0015
        case xorRelayedAddress = 0x0016
        case requestedTransport = 0x0019
        case messageIntegritySHA256 = 0x001C
        case xorMappedAddress = 0x0020
        case priority = 0x0024
        case useCandidate = 0x0025
        case software = 0x8022
        case fingerprint = 0x8028
        case iceControlled = 0x8029
        case iceControlling = 0x802A
    }

    /// Comprehension-required attributes (type < 0x8000) must be understood or the request refused.
    public var isComprehensionRequired: Bool { type < 0x8000 }

    func append(to out: inout [UInt8]) {
        out += bytesOf(type) + bytesOf(UInt16(value.count)) + value
        out += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }

    // MARK: Typed values

    /// UTF-8 text (USERNAME, REALM, NONCE, SOFTWARE).
    public static func text(_ kind: Kind, _ string: String) -> STUNAttribute { STUNAttribute(kind, Array(string.utf8)) }

    /// A 32-bit value (LIFETIME, PRIORITY).
    public static func uint32(_ kind: Kind, _ value: UInt32) -> STUNAttribute { STUNAttribute(kind, bytesOf(value)) }

    /// ERROR-CODE: class/number and a reason phrase.
    public static func errorCode(_ code: Int, reason: String) -> STUNAttribute {
        STUNAttribute(.errorCode, [0, 0, UInt8(code / 100), UInt8(code % 100)] + Array(reason.utf8))
    }

    /// REQUESTED-TRANSPORT: protocol 17 (UDP).
    public static let requestedTransportUDP = STUNAttribute(.requestedTransport, [17, 0, 0, 0])

    /// UNKNOWN-ATTRIBUTES: the comprehension-required types a request used that we do not know.
    public static func unknownAttributes(_ types: [UInt16]) -> STUNAttribute {
        STUNAttribute(.unknownAttributes, types.flatMap { bytesOf($0) })
    }

    /// CHANNEL-NUMBER.
    public static func channelNumber(_ channel: UInt16) -> STUNAttribute { STUNAttribute(.channelNumber, bytesOf(channel) + [0, 0]) }
}

extension STUNMessage {
    /// A text attribute's value.
    public func text(_ kind: STUNAttribute.Kind) -> String? {
        first(kind).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A 32-bit attribute's value.
    public func uint32(_ kind: STUNAttribute.Kind) -> UInt32? {
        guard let v = first(kind), v.count == 4 else { return nil }
        return readUInt32(v, 0)
    }

    /// ERROR-CODE as (code, reason).
    public var errorCode: (code: Int, reason: String)? {
        guard let v = first(.errorCode), v.count >= 4 else { return nil }
        return (Int(v[2] & 0x07) * 100 + Int(v[3]), String(decoding: v[4...], as: UTF8.self))
    }

    /// CHANNEL-NUMBER.
    public var channelNumber: UInt16? {
        guard let v = first(.channelNumber), v.count == 4 else { return nil }
        return readUInt16(v, 0)
    }

    /// An XOR-…-ADDRESS attribute decoded with this message's transaction ID.
    public func address(_ kind: STUNAttribute.Kind) throws(STUNError) -> TransportAddress? {
        guard let v = first(kind) else { return nil }
        return try TransportAddress(xored: v, transactionID: transactionID, attributeType: kind.rawValue)
    }

    /// Every XOR address attribute of `kind` (CreatePermission may carry several peers);
    /// malformed ones are skipped.
    public func addresses(_ kind: STUNAttribute.Kind) -> [TransportAddress] {
        attributes.filter { $0.type == kind.rawValue }
            .compactMap { try? TransportAddress(xored: $0.value, transactionID: transactionID, attributeType: $0.type) }
    }

    /// An XOR address attribute for this message's transaction ID.
    public func xorAddress(_ kind: STUNAttribute.Kind, _ address: TransportAddress) -> STUNAttribute {
        STUNAttribute(kind, address.xored(transactionID: transactionID))
    }
}
