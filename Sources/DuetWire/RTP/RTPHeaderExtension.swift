/// An RTP header extension (RFC 3550 §5.3.1): a 16-bit profile and data in 32-bit words.
///
/// Duet uses only RFC 8285's one-byte form (profile 0xBEDE), for the RFC 6464 audio level
/// that lets an SFU pick the loudest speakers without decrypting media. Other profiles are
/// carried through untouched so a parse → serialize round trip never loses bytes.
public struct RTPHeaderExtension: Equatable, Sendable {
    /// RFC 8285 §4.2: the "defined by profile" value that marks one-byte elements.
    public static let oneByteProfile: UInt16 = 0xBEDE

    public var profile: UInt16
    /// Extension data as on the wire; its length must be a multiple of 4 when serialized.
    public var data: [UInt8]

    public init(profile: UInt16, data: [UInt8]) {
        self.profile = profile
        self.data = data
    }

    /// One-byte elements packed and zero-padded to a whole number of words.
    public init(oneByteElements elements: [RTPExtensionElement]) throws(RTPEncodeError) {
        var data: [UInt8] = []
        for element in elements {
            guard (1...14).contains(element.id) else { throw .extensionElementIDOutOfRange(element.id) }
            guard (1...16).contains(element.data.count) else {
                throw .extensionElementLengthOutOfRange(id: element.id, byteCount: element.data.count)
            }
            data.append(element.id << 4 | UInt8(element.data.count - 1))
            data.append(contentsOf: element.data)
        }
        while data.count % 4 != 0 { data.append(0) }
        self.init(profile: Self.oneByteProfile, data: data)
    }

    /// The RFC 8285 one-byte elements, skipping padding bytes and stopping at the reserved
    /// id 15 as §4.2 requires. Id 0 is for padding bytes (0x00) only: a header byte with id 0
    /// and a length is no element either, and ends the list the same way (as libwebrtc reads it),
    /// so every element returned has an id of 1...14 and can be written back.
    public func oneByteElements() throws(RTPParseError) -> [RTPExtensionElement] {
        guard profile == Self.oneByteProfile else { throw .notOneByteExtension(profile: profile) }
        var elements: [RTPExtensionElement] = []
        var offset = 0
        while offset < data.count {
            let byte = data[offset]
            if byte == 0 {
                offset += 1
                continue
            }
            let id = byte >> 4
            if id == 15 || id == 0 { break }
            let length = Int(byte & 0x0F) + 1
            guard offset + 1 + length <= data.count else {
                throw .extensionElementBeyondData(id: id, offset: offset)
            }
            elements.append(RTPExtensionElement(id: id, data: Array(data[offset + 1..<offset + 1 + length])))
            offset += 1 + length
        }
        return elements
    }
}

/// One RFC 8285 extension element: a locally negotiated id and its bytes.
public struct RTPExtensionElement: Equatable, Sendable {
    public var id: UInt8
    public var data: [UInt8]

    public init(id: UInt8, data: [UInt8]) {
        self.id = id
        self.data = data
    }
}
