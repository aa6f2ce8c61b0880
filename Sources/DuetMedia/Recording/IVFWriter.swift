import Foundation

/// Streams the VP8 frames a call shows to an IVF file (`--save-video`, the format in
/// `IVFStream`). The time base is RTP's 90 kHz clock, so the file keeps the
/// pictures' real spacing (gaps and all). The frame count in the header is patched on `flush`,
/// so a call cut short still leaves a playable file.
///
/// Not Sendable: one owner writes a recording.
public final class IVFWriter {
    public let url: URL
    private let file: RecordingFile
    private let width: Int
    private let height: Int
    /// RTP time wraps every 13 hours; the file's 64-bit time, counted from the first frame,
    /// keeps counting.
    private var elapsed: UInt64 = 0
    private var lastTimestamp: UInt32?
    public private(set) var frames = 0

    /// The size is the first keyframe's; frames of another size (a sender that changed it)
    /// are still written, and players follow the keyframes.
    public init(url: URL, width: Int, height: Int) throws {
        self.width = width
        self.height = height
        self.url = url
        file = try RecordingFile(at: url, header: Self.header(width: width, height: height, frames: 0), kind: "IVF")
    }

    deinit {
        if !file.closed { try? close() }
    }

    static func header(width: Int, height: Int, frames: Int) -> [UInt8] {
        IVFStream.header(width: width, height: height, unitsPerSecond: 90_000, frames: frames)
    }

    /// One whole VP8 frame with its RTP timestamp.
    public func append(_ frame: [UInt8], rtpTimestamp: UInt32) throws {
        // Forward steps only: a frame stamped earlier keeps the latest time, and the next is
        // measured from that.
        if let last = lastTimestamp {
            let step = rtpTimestamp &- last
            if step < 0x8000_0000 {
                elapsed += UInt64(step)
                lastTimestamp = rtpTimestamp
            }
        } else {
            lastTimestamp = rtpTimestamp
        }
        try file.append(IVFStream.frame(frame, time: elapsed))
        frames += 1
    }

    /// Rewrites the header's frame count so the file is complete up to here.
    public func flush() throws { try file.rewriteHeader(Self.header(width: width, height: height, frames: frames)) }

    public func close() throws { try file.close(header: Self.header(width: width, height: height, frames: frames)) }
}
