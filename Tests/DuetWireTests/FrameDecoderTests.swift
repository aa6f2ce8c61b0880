import DuetWire
import Testing

@Suite("Signaling frames")
struct FrameDecoderTests {
    @Test func framesSplitAcrossReadsAreReassembled() throws {
        let one = try FrameDecoder.frame(Array(#"{"type":"hello"}"#.utf8))
        let two = try FrameDecoder.frame(Array(#"{"type":"ping"}"#.utf8))
        var decoder = FrameDecoder()
        let stream = one + two
        var frames: [[UInt8]] = []
        for byte in stream {  // worst case: one byte per read
            decoder.append([byte])
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        }
        #expect(frames.map { String(decoding: $0, as: UTF8.self) } == [#"{"type":"hello"}"#, #"{"type":"ping"}"#])
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func oversizedFrameIsRefusedFromItsHeaderAlone() {
        var decoder = FrameDecoder()
        decoder.append([0x00, 0x01, 0x00, 0x01])  // 65537
        #expect(throws: FrameDecoder.Failure.frameTooLarge(length: 65537, maximum: 65536)) { try decoder.nextFrame() }
        #expect(throws: FrameDecoder.Failure.self) { try FrameDecoder.frame([UInt8](repeating: 0x20, count: 65537)) }
    }

    @Test func emptyFrameIsRefused() {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 0])
        #expect(throws: FrameDecoder.Failure.emptyFrame) { try decoder.nextFrame() }
    }

    @Test func maximumSizeFrameIsAccepted() throws {
        var decoder = FrameDecoder()
        decoder.append(try FrameDecoder.frame([UInt8](repeating: 0x20, count: 65536)))
        #expect(try decoder.nextFrame()?.count == 65536)
    }
}
