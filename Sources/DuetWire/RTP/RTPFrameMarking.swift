/// RFC 9626 Video Frame Marking, the one-byte form of a stream with temporal layers and no
/// spatial ones (LID and TL0PICIDX left out, as §3.2 allows): start and end of frame, a frame
/// decodable alone (a keyframe), one no other frame needs, a base-layer sync point, and the
/// temporal layer.
///
/// In a group call it is the only video metadata the SFU sees (docs/video.md): the frame
/// itself is SFrame ciphertext, so this is how an SFU can tell keyframes and temporal layers
/// apart. It is not authenticated end to end: a receiver takes the keyframe flag from the
/// frame it opened, never from here.
public struct RTPFrameMarking: Equatable, Sendable {
    /// The extension id Duet uses (the audio level has 1).
    public static let defaultExtensionID: UInt8 = 2

    public var startOfFrame: Bool
    public var endOfFrame: Bool
    /// I: decodable with no earlier frame (a keyframe).
    public var independent: Bool
    /// D: no later frame refers to this one; dropping it breaks nothing.
    public var discardable: Bool
    /// B: the frame refers only to the base layer (a switching point up).
    public var baseLayerSync: Bool
    /// TID, 0...7: 0 the base layer.
    public var temporalLayer: UInt8

    public init(
        startOfFrame: Bool, endOfFrame: Bool, independent: Bool, discardable: Bool = false, baseLayerSync: Bool = false,
        temporalLayer: UInt8 = 0
    ) {
        self.startOfFrame = startOfFrame
        self.endOfFrame = endOfFrame
        self.independent = independent
        self.discardable = discardable
        self.baseLayerSync = baseLayerSync
        self.temporalLayer = temporalLayer & 0x07
    }

    /// S E I D B TID, most significant bit first.
    public var byte: UInt8 {
        (startOfFrame ? 0x80 : 0) | (endOfFrame ? 0x40 : 0) | (independent ? 0x20 : 0) | (discardable ? 0x10 : 0)
            | (baseLayerSync ? 0x08 : 0) | temporalLayer
    }

    /// Reads an element's body: its first byte (the longer scalable forms' LID and TL0PICIDX,
    /// which Duet never sends, are ignored).
    public init(element: RTPExtensionElement) throws(RTPParseError) {
        guard let byte = element.data.first else { throw .malformedFrameMarking(byteCount: 0) }
        self.init(
            startOfFrame: byte & 0x80 != 0, endOfFrame: byte & 0x40 != 0, independent: byte & 0x20 != 0, discardable: byte & 0x10 != 0,
            baseLayerSync: byte & 0x08 != 0, temporalLayer: byte & 0x07)
    }

    /// The element to put in a one-byte header extension.
    public func element(id: UInt8 = defaultExtensionID) -> RTPExtensionElement {
        RTPExtensionElement(id: id, data: [byte])
    }
}

extension RTPPacket {
    /// The frame marking carried under `id`, nil when the packet has none.
    public func frameMarking(extensionID id: UInt8 = RTPFrameMarking.defaultExtensionID) throws(RTPParseError) -> RTPFrameMarking? {
        guard let headerExtension, headerExtension.profile == RTPHeaderExtension.oneByteProfile else { return nil }
        guard let element = try headerExtension.oneByteElements().first(where: { $0.id == id }) else { return nil }
        return try RTPFrameMarking(element: element)
    }
}
