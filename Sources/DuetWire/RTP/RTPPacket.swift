/// One RTP packet (RFC 3550 §5.1) as values, and its exact wire form.
///
/// The codec does no I/O and keeps no state, so the client, the SFU and tests share it.
/// `init(parsing:)` validates every length field against the bytes it was given before
/// reading past the fixed header; `serialized()` is its inverse (padding bytes are written
/// as zeros, the one part of a packet a round trip does not preserve).
public struct RTPPacket: Equatable, Sendable {
    /// The only RTP version in use (RFC 3550).
    public static let version: UInt8 = 2
    /// V/P/X/CC, M/PT, sequence number, timestamp, SSRC.
    public static let fixedHeaderLength = 12

    public var marker: Bool
    /// 7 bits; `RTPPayloadType.opus` for Duet's audio.
    public var payloadType: UInt8
    public var sequenceNumber: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    /// Contributing sources (at most 15).
    public var csrcs: [UInt32]
    public var headerExtension: RTPHeaderExtension?
    public var payload: [UInt8]
    /// Padding bytes after the payload, counting the final length byte; 0 means no P bit.
    public var paddingLength: UInt8

    public init(
        payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32,
        marker: Bool = false, csrcs: [UInt32] = [], headerExtension: RTPHeaderExtension? = nil,
        payload: [UInt8] = [], paddingLength: UInt8 = 0
    ) {
        self.marker = marker
        self.payloadType = payloadType
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.csrcs = csrcs
        self.headerExtension = headerExtension
        self.payload = payload
        self.paddingLength = paddingLength
    }

    /// Parses a whole packet, rejecting any length field that points outside `bytes`.
    public init(parsing bytes: [UInt8]) throws(RTPParseError) {
        // Array.withUnsafeBytes is untyped `rethrows`, so the typed error travels in a Result.
        self = try bytes.withUnsafeBytes { buffer in
            Result { () throws(RTPParseError) -> RTPPacket in try RTPPacket(parsing: buffer) }
        }.get()
    }

    /// Parses a whole packet from raw memory (e.g. a datagram buffer) without copying it first.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RTPParseError) {
        let layout = try Self.headerLayout(bytes)
        var payloadEnd = bytes.count
        var padding: UInt8 = 0
        if bytes[0] & 0x20 != 0 {
            let available = bytes.count - layout.headerLength
            let announced = Int(bytes[bytes.count - 1])
            guard announced >= 1, announced <= available else {
                throw .badPaddingLength(padding: announced, available: available)
            }
            padding = UInt8(announced)
            payloadEnd -= announced
        }
        var csrcs: [UInt32] = []
        csrcs.reserveCapacity(layout.csrcCount)
        for index in 0..<layout.csrcCount {
            csrcs.append(Self.readUInt32(bytes, at: Self.fixedHeaderLength + 4 * index))
        }
        var headerExtension: RTPHeaderExtension?
        if let start = layout.extensionStart {
            let profile = UInt16(bytes[start]) << 8 | UInt16(bytes[start + 1])
            headerExtension = RTPHeaderExtension(profile: profile, data: Array(bytes[start + 4..<layout.headerLength]))
        }
        self.init(
            payloadType: bytes[1] & 0x7F,
            sequenceNumber: UInt16(bytes[2]) << 8 | UInt16(bytes[3]),
            timestamp: Self.readUInt32(bytes, at: 4),
            ssrc: Self.readUInt32(bytes, at: 8),
            marker: bytes[1] & 0x80 != 0,
            csrcs: csrcs,
            headerExtension: headerExtension,
            payload: Array(bytes[layout.headerLength..<payloadEnd]),
            paddingLength: padding
        )
    }

    /// Length of the header (fixed part, CSRCs, extension) after checking version and every
    /// length field. Padding is not checked: under SRTP it sits inside the encrypted payload,
    /// and this is what an SRTP endpoint or an SFU can validate before decryption.
    public static func headerLength(of bytes: UnsafeRawBufferPointer) throws(RTPParseError) -> Int {
        try headerLayout(bytes).headerLength
    }

    /// The SSRC in a packet's fixed header (in the clear under SRTP), without parsing the rest;
    /// nil when the packet is shorter than the fixed header.
    public static func ssrc(of bytes: [UInt8]) -> UInt32? {
        guard bytes.count >= 12 else { return nil }
        return UInt32(bytes[8]) << 24 | UInt32(bytes[9]) << 16 | UInt32(bytes[10]) << 8 | UInt32(bytes[11])
    }

    /// `headerLength(of:)` for an array.
    public static func headerLength(of bytes: [UInt8]) throws(RTPParseError) -> Int {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(RTPParseError) -> Int in try headerLength(of: buffer) }
        }.get()
    }

    /// The wire form; throws when a field holds a value the format cannot carry.
    public func serialized() throws(RTPEncodeError) -> [UInt8] {
        guard csrcs.count <= 15 else { throw .tooManyCSRCs(csrcs.count) }
        guard payloadType <= 0x7F else { throw .payloadTypeOutOfRange(payloadType) }
        if let headerExtension {
            guard headerExtension.data.count % 4 == 0 else {
                throw .extensionNotWordAligned(byteCount: headerExtension.data.count)
            }
            guard headerExtension.data.count / 4 <= Int(UInt16.max) else {
                throw .extensionTooLong(byteCount: headerExtension.data.count)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(
            Self.fixedHeaderLength + 4 * csrcs.count + (headerExtension.map { 4 + $0.data.count } ?? 0)
                + payload.count + Int(paddingLength))
        out.append(Self.version << 6 | (paddingLength > 0 ? 0x20 : 0) | (headerExtension != nil ? 0x10 : 0) | UInt8(csrcs.count))
        out.append((marker ? 0x80 : 0) | payloadType)
        Self.append(sequenceNumber, to: &out)
        Self.append(timestamp, to: &out)
        Self.append(ssrc, to: &out)
        for csrc in csrcs { Self.append(csrc, to: &out) }
        if let headerExtension {
            Self.append(headerExtension.profile, to: &out)
            Self.append(UInt16(headerExtension.data.count / 4), to: &out)
            out.append(contentsOf: headerExtension.data)
        }
        out.append(contentsOf: payload)
        if paddingLength > 0 {
            out.append(contentsOf: repeatElement(0, count: Int(paddingLength) - 1))
            out.append(paddingLength)
        }
        return out
    }

    // MARK: - Internals

    private struct HeaderLayout {
        var csrcCount: Int
        var extensionStart: Int?
        var headerLength: Int
    }

    private static func headerLayout(_ bytes: UnsafeRawBufferPointer) throws(RTPParseError) -> HeaderLayout {
        guard bytes.count >= fixedHeaderLength else { throw .tooShort(length: bytes.count) }
        let version = bytes[0] >> 6
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let csrcCount = Int(bytes[0] & 0x0F)
        var length = fixedHeaderLength + 4 * csrcCount
        guard length <= bytes.count else { throw .csrcListBeyondPacket(count: csrcCount, length: bytes.count) }
        var extensionStart: Int?
        if bytes[0] & 0x10 != 0 {
            guard length + 4 <= bytes.count else { throw .extensionBeyondPacket(needed: length + 4, length: bytes.count) }
            let words = Int(bytes[length + 2]) << 8 | Int(bytes[length + 3])
            extensionStart = length
            length += 4 + 4 * words
            guard length <= bytes.count else { throw .extensionBeyondPacket(needed: length, length: bytes.count) }
        }
        return HeaderLayout(csrcCount: csrcCount, extensionStart: extensionStart, headerLength: length)
    }

    private static func readUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }
}
