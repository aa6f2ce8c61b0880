import DuetWire
import Testing

@Suite("TURN over a stream")
struct TURNStreamFramerTests {
    let binding = STUNMessage(method: .binding, messageClass: .request, transactionID: [UInt8](repeating: 7, count: 12)).encoded()
    let data = ChannelData(channel: 0x4001, payload: [1, 2, 3, 4, 5]).encoded

    /// A stream cuts frames anywhere: one byte at a time gives back the same frames, and
    /// ChannelData loses the padding a stream adds (RFC 8656 §12.5).
    @Test func framesSurviveAnyCutAndChannelDataPaddingIsDropped() throws {
        let stream = TURNStreamFramer.frame(data) + TURNStreamFramer.frame(binding) + TURNStreamFramer.frame(data)
        #expect(TURNStreamFramer.frame(data).count == 12, "4 + 5 bytes padded to 12")
        var framer = TURNStreamFramer()
        var frames: [[UInt8]] = []
        for byte in stream {
            framer.append([byte])
            while let frame = try framer.next() { frames.append(frame) }
        }
        #expect(frames == [data, binding, data])
        #expect(framer.buffered == 0)
    }

    /// A peer that sends TLS (or HTTP, or garbage) where TURN was expected gets a clear error.
    @Test func anythingButTURNIsRefused() {
        var framer = TURNStreamFramer()
        framer.append(Array("POST / HTTP/1.1\r\n".utf8))
        #expect(throws: TURNStreamFramer.Failure.notTURN(firstByte: UInt8(ascii: "P"))) { try framer.next() }
        var high = TURNStreamFramer()
        high.append([0x7F, 0, 0, 4, 1, 2, 3, 4])
        #expect(throws: TURNStreamFramer.Failure.self) { try high.next() }
    }
}
