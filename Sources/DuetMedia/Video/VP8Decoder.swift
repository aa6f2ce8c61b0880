import CVPX
import DuetWire
import Synchronization

/// Decodes VP8 frames into pictures (`VideoFrame`).
///
/// `@unchecked Sendable`: the libvpx context is made once, destroyed once in `deinit`, and
/// every other use goes through `lock`.
public final class VP8Decoder: @unchecked Sendable {
    private let context: UnsafeMutablePointer<vpx_codec_ctx_t>
    private let lock = Mutex(())
    /// The most pixels a keyframe may declare. A keyframe costs a few hundred bytes whatever
    /// size it declares, and libvpx allocates for that size: a peer's 12000×12000 keyframe would
    /// cost hundreds of megabytes and a third of a second. 1280×720 is twice what Duet sends.
    public let maximumPixels: Int

    public init(maximumPixels: Int = 1280 * 720) throws(VideoCodecError) {
        self.maximumPixels = maximumPixels
        context = .allocate(capacity: 1)
        context.initialize(to: vpx_codec_ctx_t())
        do { try VideoCodecError.check(duet_vpx_vp8_decoder_init(context), "vpx_codec_dec_init", context) } catch {
            context.deallocate()
            throw error
        }
    }

    deinit {
        vpx_codec_destroy(context)
        context.deallocate()
    }

    /// Decodes one whole VP8 frame; nil when it yields no picture (libvpx's choice, e.g. a
    /// frame that is not shown). A damaged frame throws and leaves the decoder usable for the
    /// next keyframe.
    public func decode(_ bytes: [UInt8]) throws(VideoCodecError) -> VideoFrame? {
        guard !bytes.isEmpty else { throw .emptyFrame }
        if let size = VP8Payload.keyframeSize(bytes[...]), size.width * size.height > maximumPixels {
            throw .pictureTooLarge(width: size.width, height: size.height)
        }
        return try lock.withLock { _ throws(VideoCodecError) -> VideoFrame? in
            try bytes.withUnsafeBufferPointer { (buffer) throws(VideoCodecError) in
                try VideoCodecError.check(
                    vpx_codec_decode(context, buffer.baseAddress, UInt32(buffer.count), nil, 0), "vpx_codec_decode", context)
            }
            var iterator: vpx_codec_iter_t?
            var picture: VideoFrame?
            while let image = vpx_codec_get_frame(context, &iterator) { picture = Self.copy(image.pointee) }
            return picture
        }
    }

    /// The image's visible planes, without their stride padding.
    private static func copy(_ image: vpx_image_t) -> VideoFrame? {
        let width = Int(image.d_w), height = Int(image.d_h)
        guard image.fmt == VPX_IMG_FMT_I420, width > 0, height > 0, width % 2 == 0, height % 2 == 0 else { return nil }
        func plane(_ base: UnsafeMutablePointer<UInt8>?, stride: Int32, _ w: Int, _ h: Int) -> [UInt8] {
            guard let base, Int(stride) >= w else { return [] }
            var out = [UInt8]()
            out.reserveCapacity(w * h)
            for row in 0..<h { out.append(contentsOf: UnsafeBufferPointer(start: base + row * Int(stride), count: w)) }
            return out
        }
        let y = plane(image.planes.0, stride: image.stride.0, width, height)
        let u = plane(image.planes.1, stride: image.stride.1, width / 2, height / 2)
        let v = plane(image.planes.2, stride: image.stride.2, width / 2, height / 2)
        guard y.count == width * height, u.count == width * height / 4, v.count == u.count else { return nil }
        return VideoFrame(width: width, height: height, y: y, u: u, v: v)
    }
}
