import Testing

@testable import DuetMedia

/// The container details the recording export relies on, byte for byte.
@Suite("IVF and WebM bytes")
struct ContainerFormatTests {
    /// EBML sizes take as few bytes as hold them; all ones is "unknown", so 127 needs two.
    @Test func ebmlSizesAreShortestAndNeverUnknown() {
        #expect(WebMMuxer.size(0) == [0x80])
        #expect(WebMMuxer.size(126) == [0xFE])
        #expect(WebMMuxer.size(127) == [0x40, 0x7F])
        #expect(WebMMuxer.size(16_382) == [0x7F, 0xFE])
        #expect(WebMMuxer.size(16_383) == [0x20, 0x3F, 0xFF])
        #expect(WebMMuxer.id(0x1A45_DFA3) == [0x1A, 0x45, 0xDF, 0xA3] && WebMMuxer.id(0xA3) == [0xA3])
        #expect(WebMMuxer.uint(0xE7, 0) == [0xE7, 0x81, 0x00] && WebMMuxer.uint(0xE7, 300) == [0xE7, 0x82, 0x01, 0x2C])
    }

    /// A Cluster opens at the first block, at each video keyframe and at least every 5 s; a
    /// block's time is relative to its Cluster's.
    @Test func clustersOpenAtKeyframesAndEveryFiveSeconds() {
        var muxer = WebMMuxer()
        let cluster = WebMMuxer.id(0x1F43_B675)
        func opens(_ bytes: [UInt8]) -> Bool { bytes.starts(with: cluster) }
        #expect(opens(muxer.block([1], track: WebMMuxer.audioTrack, milliseconds: 0, keyframe: true)))
        #expect(!opens(muxer.block([1], track: WebMMuxer.audioTrack, milliseconds: 20, keyframe: true)))
        let delta = muxer.block([2], track: WebMMuxer.videoTrack, milliseconds: 300, keyframe: false)
        #expect(!opens(delta) && Array(delta.suffix(4)) == [0x01, 0x2C, 0x00, 2], "time 300 in its cluster, not a keyframe")
        #expect(opens(muxer.block([3], track: WebMMuxer.videoTrack, milliseconds: 400, keyframe: true)))
        #expect(opens(muxer.block([4], track: WebMMuxer.audioTrack, milliseconds: 5_400, keyframe: true)))
    }

    /// What `IVFStream` writes it reads back; a stream cut inside a frame ends at the frame
    /// before; what is not IVF of VP8 is refused.
    @Test func anIVFStreamReadsBackAndACutOneEndsAtItsLastWholeFrame() {
        var bytes = IVFStream.header(width: 160, height: 120, unitsPerSecond: 1000, frames: 0)
        for index in 0..<3 { bytes += IVFStream.frame([UInt8](repeating: UInt8(index), count: 10 + index), time: UInt64(index * 66)) }
        let whole = IVFStream.parse(bytes)
        #expect(whole?.width == 160 && whole?.unitsPerSecond == 1000 && whole?.frames.map(\.time) == [0, 66, 132])
        #expect(whole?.frames.last?.bytes == [UInt8](repeating: 2, count: 12))
        #expect(IVFStream.parse(Array(bytes.dropLast(3)))?.frames.count == 2)
        #expect(IVFStream.parse(Array("OggS".utf8) + [UInt8](repeating: 0, count: 40)) == nil)
    }
}
