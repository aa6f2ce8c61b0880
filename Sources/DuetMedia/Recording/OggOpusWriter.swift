/// Builds an Ogg Opus stream (RFC 7845 over RFC 3533) from encoded packets, for recordings
/// and `--wav`-style exports that any player (opusdec, ffmpeg, browsers) can open.
///
/// Pure: it returns the bytes of each finished page and leaves storage to the caller, so the
/// same writer serves a plain file and the server's encrypted-at-rest recordings.
public struct OggOpusWriter: Sendable {
    public let head: OpusHead
    public let tags: OpusTags
    public let serialNumber: UInt32
    /// Audio per page: about a second keeps seeking cheap and page overhead under 1 %.
    public let samplesPerPage: Int

    private var sequenceNumber: UInt32 = 0
    private var headersWritten = false
    private var finished = false
    /// Samples in all packets appended so far; the granule position counts these (pre-skip included).
    private var position: Int64 = 0
    private var pending = PendingPage()
    private var output: [UInt8] = []

    private struct PendingPage: Sendable {
        var lacing: [UInt8] = []
        var body: [UInt8] = []
        var granule = OggPage.noGranule
        var samples = 0
        var continued = false
    }

    /// Largest Opus packet accepted: 120 ms of 1275-byte frames, far above anything Duet sends.
    static let maximumPacketBytes = 1275 * 48 + 2 * 48

    /// - Parameters:
    ///   - preSkip: the encoder's lookahead (`OpusEncoder.lookahead`), dropped by players.
    ///   - serialNumber: identifies the logical stream; random unless a test needs a fixed one.
    public init(
        preSkip: Int, tags: OpusTags = OpusTags(), serialNumber: UInt32 = .random(in: .min ... .max),
        samplesPerPage: Int = AudioFormat.sampleRate
    ) {
        precondition((0...Int(UInt16.max)).contains(preSkip), "pre-skip must fit in 16 bits")
        head = OpusHead(preSkip: UInt16(preSkip))
        self.tags = tags
        self.serialNumber = serialNumber
        self.samplesPerPage = max(samplesPerPage, AudioFormat.samplesPerFrame)
    }

    /// Adds one Opus packet covering `samples` samples and returns any bytes now ready to store
    /// (the headers on the first call, then a page about once a second).
    public mutating func append(_ packet: [UInt8], samples: Int = AudioFormat.samplesPerFrame) throws(OggOpusError) -> [UInt8] {
        guard !finished else { throw .finished }
        guard !packet.isEmpty else { throw .emptyAudioPacket(index: Int(position / Int64(AudioFormat.samplesPerFrame))) }
        guard packet.count <= Self.maximumPacketBytes else { throw .packetTooLarge(bytes: packet.count) }
        writeHeadersIfNeeded()
        if pending.samples >= samplesPerPage { emitPage() }
        position += Int64(samples)
        add(packet, granule: position)
        pending.samples += samples
        return takeOutput()
    }

    /// Ends the stream with the end-of-stream page.
    /// - Parameter originalLength: samples of real input, if known; the last granule is then
    ///   trimmed to `preSkip + originalLength` so players output exactly that many (RFC 7845 §4.4).
    public mutating func finish(originalLength: Int? = nil) throws(OggOpusError) -> [UInt8] {
        guard !finished else { throw .finished }
        writeHeadersIfNeeded()
        if let originalLength {
            let end = Int64(head.preSkip) + Int64(originalLength)
            if pending.granule != OggPage.noGranule, end < pending.granule { pending.granule = max(end, position - Int64(pending.samples)) }
        }
        if pending.lacing.isEmpty { pending.granule = position }
        emitPage(flags: .endOfStream)
        finished = true
        return takeOutput()
    }

    /// A whole file in one go, for tests and exports.
    public static func file(
        packets: [[UInt8]], preSkip: Int, originalLength: Int? = nil, tags: OpusTags = OpusTags(),
        serialNumber: UInt32 = .random(in: .min ... .max)
    ) throws(OggOpusError) -> [UInt8] {
        var writer = OggOpusWriter(preSkip: preSkip, tags: tags, serialNumber: serialNumber)
        var bytes: [UInt8] = []
        for packet in packets { bytes += try writer.append(packet) }
        bytes += try writer.finish(originalLength: originalLength)
        return bytes
    }

    // MARK: - Pages

    private mutating func writeHeadersIfNeeded() {
        guard !headersWritten else { return }
        headersWritten = true
        // OpusHead alone on the first page; OpusTags must finish its own page (RFC 7845 §3).
        add(head.serialised(), granule: 0)
        emitPage(flags: .beginningOfStream)
        add(tags.serialised(), granule: 0)
        emitPage()
    }

    /// Laces a packet into the pending page, starting new pages as the 255-segment table fills.
    private mutating func add(_ packet: [UInt8], granule: Int64) {
        var offset = 0
        for lace in OggPage.lacing(forPacketLength: packet.count) {
            if pending.lacing.count == OggPage.maximumSegments {
                emitPage()
                pending.continued = true
            }
            pending.lacing.append(lace)
            pending.body += packet[offset..<offset + Int(lace)]
            offset += Int(lace)
        }
        pending.granule = granule
    }

    private mutating func emitPage(flags extra: OggPage.Flags = []) {
        var flags = extra
        if pending.continued { flags.insert(.continued) }
        let page = OggPage(
            flags: flags, granulePosition: pending.granule, serialNumber: serialNumber,
            sequenceNumber: sequenceNumber, lacing: pending.lacing, body: pending.body)
        output += page.serialised()
        sequenceNumber += 1
        pending = PendingPage()
    }

    private mutating func takeOutput() -> [UInt8] {
        defer { output = [] }
        return output
    }
}
