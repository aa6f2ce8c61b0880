import Foundation

/// Reads an Ogg Opus stream (RFC 7845) back into its headers and Opus packets: how Duet
/// checks its own recordings and imports audio made by other tools (opusenc, ffmpeg).
///
/// Reads the first logical stream and ignores pages of any other (chained or multiplexed)
/// stream; every page's checksum and sequence number is checked.
public struct OggOpusReader: Sendable {
    public let head: OpusHead
    public let tags: OpusTags
    /// Audio packets in order, one Opus packet each.
    public let packets: [[UInt8]]
    /// Granule position of the last page: decoded samples to keep, pre-skip included.
    public let finalGranulePosition: Int64

    /// Samples a player outputs: the final granule minus the pre-skip (RFC 7845 §4.3).
    public var playbackSamples: Int { max(0, Int(finalGranulePosition) - Int(head.preSkip)) }

    public init(contentsOf url: URL) throws {
        try self.init(bytes: Array(Data(contentsOf: url)))
    }

    public init(bytes: [UInt8]) throws(OggOpusError) {
        var offset = 0
        var serial: UInt32?
        var expectedSequence: UInt32 = 0
        var completed: [[UInt8]] = []
        var partial: [UInt8]?
        var lastGranule: Int64 = 0
        var sawEnd = false

        while offset < bytes.count, !sawEnd {
            let (page, next) = try OggPage.parse(bytes, at: offset)
            defer { offset = next }
            if serial == nil {
                guard page.flags.contains(.beginningOfStream) else {
                    throw .notOpus(reason: "first page is not a beginning-of-stream page")
                }
                serial = page.serialNumber
            }
            guard page.serialNumber == serial else { continue }
            guard page.sequenceNumber == expectedSequence else {
                throw .truncated(offset: offset, what: "stream (page \(expectedSequence) is missing; found page \(page.sequenceNumber))")
            }
            expectedSequence += 1
            if page.flags.contains(.continued) != (partial != nil) {
                throw .malformedHeader(
                    packet: "Ogg page \(page.sequenceNumber)", reason: "continuation flag does not match the previous page")
            }

            partial = Self.unlace(page, after: partial, into: &completed)
            if page.granulePosition != OggPage.noGranule {
                // Only -1 may be negative; a granule near Int64.min made `playbackSamples` overflow.
                guard page.granulePosition >= 0 else {
                    throw .invalidGranulePosition(page: page.sequenceNumber, granule: page.granulePosition)
                }
                lastGranule = page.granulePosition
            }
            if page.sequenceNumber == 0, completed.count != 1 || partial != nil {
                throw .notOpus(reason: "OpusHead must be alone on the first page")
            }
            sawEnd = page.flags.contains(.endOfStream)
        }
        guard completed.count >= 2 else { throw .truncated(offset: bytes.count, what: "stream before both Opus headers") }
        head = try OpusHead(parsing: completed[0])
        tags = try OpusTags(parsing: completed[1])
        let audio = Array(completed.dropFirst(2))
        if let empty = audio.firstIndex(where: \.isEmpty) { throw .emptyAudioPacket(index: empty) }
        packets = audio
        finalGranulePosition = lastGranule
    }

    /// The packets `page` completes, appended to `completed` (the first goes on from
    /// `partial`, what the previous page left open); what it leaves open, if anything.
    private static func unlace(_ page: OggPage, after partial: [UInt8]?, into completed: inout [[UInt8]]) -> [UInt8]? {
        var bodyOffset = 0
        var current = partial ?? []
        var inPacket = partial != nil
        for lace in page.lacing {
            current += page.body[bodyOffset..<bodyOffset + Int(lace)]
            bodyOffset += Int(lace)
            inPacket = true
            if lace < 255 {
                completed.append(current)
                current = []
                inPacket = false
            }
        }
        return inPacket ? current : nil
    }

    /// Decodes the whole stream to what a player would output: pre-skip dropped and the end
    /// trimmed to the final granule position. Mono streams only.
    public func decodeAll() throws -> [Int16] {
        guard head.channelCount == 1 else {
            throw OggOpusError.malformedHeader(packet: "OpusHead", reason: "\(head.channelCount) channels; Duet decodes mono streams")
        }
        let decoder = try OpusDecoder()
        var pcm: [Int16] = []
        for packet in packets { pcm += try decoder.decode(packet) }
        let start = min(Int(head.preSkip), pcm.count)
        let end = min(pcm.count, start + playbackSamples)
        return Array(pcm[start..<max(start, end)])
    }
}
