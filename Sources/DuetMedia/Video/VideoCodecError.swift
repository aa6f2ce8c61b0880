import CVPX

/// Why a VP8 call failed. libvpx's error codes become this in one place (`check`), with its
/// own wording and the codec's detail string for logs.
public enum VideoCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libvpx returned `code` from `operation`; `detail` is `vpx_codec_error_detail`, if any.
    case library(operation: String, code: Int32, detail: String)
    /// A frame of another size than the encoder was made for (a caller bug).
    case wrongFrameSize(expected: String, actual: String)
    /// A setting outside what Duet supports.
    case invalidSetting(name: String, value: Int)
    /// An empty payload: nothing to decode (libvpx would treat it as a flush).
    case emptyFrame
    /// A keyframe declaring a picture larger than the decoder takes: refused before libvpx
    /// would allocate for it.
    case pictureTooLarge(width: Int, height: Int)

    public var description: String {
        switch self {
        case let .library(operation, code, detail):
            let reason = String(cString: vpx_codec_err_to_string(vpx_codec_err_t(rawValue: UInt32(code))))
            return "\(operation) failed: \(reason)" + (detail.isEmpty ? "" : " (\(detail))")
        case let .wrongFrameSize(expected, actual): return "a \(actual) frame given to a \(expected) encoder"
        case let .invalidSetting(name, value): return "\(name) \(value) is outside what Duet supports"
        case .emptyFrame: return "an empty VP8 frame"
        case let .pictureTooLarge(width, height): return "a \(width)×\(height) picture is larger than Duet shows"
        }
    }

    /// Throws unless `result` is VPX_CODEC_OK.
    static func check(_ result: vpx_codec_err_t, _ operation: String, _ context: UnsafeMutablePointer<vpx_codec_ctx_t>)
        throws(VideoCodecError)
    {
        guard result != VPX_CODEC_OK else { return }
        let detail = vpx_codec_error_detail(context).map { String(cString: $0) } ?? ""
        throw .library(operation: operation, code: Int32(result.rawValue), detail: detail)
    }
}
