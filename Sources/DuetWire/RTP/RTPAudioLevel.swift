/// The RFC 6464 client-to-mixer audio level: how loud a packet is (in -dBov, 0 loudest,
/// 127 silence) and whether the sender's voice-activity detector heard speech.
///
/// It travels in the clear in the RTP header extension, so the SFU can rank speakers and
/// the receiver's level meter can move before the payload is decrypted.
public struct RTPAudioLevel: Equatable, Sendable {
    /// The extension id Duet uses when none is negotiated.
    public static let defaultExtensionID: UInt8 = 1
    /// The quietest level the 7-bit field can carry (digital silence).
    public static let silence: UInt8 = 127

    /// Level in -dBov, 0...127.
    public let level: UInt8
    public let voiceActivity: Bool

    /// Levels quieter than -127 dBov are clamped to 127, as RFC 6464 §3 requires.
    public init(level: UInt8, voiceActivity: Bool) {
        self.level = min(level, Self.silence)
        self.voiceActivity = voiceActivity
    }

    /// Reads the one-byte element body: V in the top bit, level in the low seven.
    public init(element: RTPExtensionElement) throws(RTPParseError) {
        guard element.data.count == 1 else { throw .malformedAudioLevel(byteCount: element.data.count) }
        self.init(level: element.data[0] & 0x7F, voiceActivity: element.data[0] & 0x80 != 0)
    }

    /// The element to put in a one-byte header extension.
    public func element(id: UInt8 = defaultExtensionID) -> RTPExtensionElement {
        RTPExtensionElement(id: id, data: [(voiceActivity ? 0x80 : 0) | level])
    }
}

extension RTPPacket {
    /// The audio level carried under `id`, nil when the packet has none.
    public func audioLevel(extensionID id: UInt8 = RTPAudioLevel.defaultExtensionID) throws(RTPParseError) -> RTPAudioLevel? {
        guard let headerExtension, headerExtension.profile == RTPHeaderExtension.oneByteProfile else { return nil }
        guard let element = try headerExtension.oneByteElements().first(where: { $0.id == id }) else { return nil }
        return try RTPAudioLevel(element: element)
    }
}
