/// The identification header every Ogg Opus stream starts with (RFC 7845 §5.1). Duet writes
/// mono, mapping family 0; it reads any family-0 header.
public struct OpusHead: Equatable, Sendable {
    static let magic: [UInt8] = Array("OpusHead".utf8)

    public var version: UInt8 = 1
    public var channelCount: UInt8 = 1
    /// Samples (48 kHz) the decoder outputs before real audio starts; players drop them.
    public var preSkip: UInt16
    /// The original sample rate, informational only.
    public var inputSampleRate: UInt32 = UInt32(AudioFormat.sampleRate)
    /// Q7.8 dB.
    public var outputGain: Int16 = 0
    public var mappingFamily: UInt8 = 0

    public init(preSkip: UInt16, channelCount: UInt8 = 1, inputSampleRate: UInt32 = UInt32(AudioFormat.sampleRate)) {
        self.preSkip = preSkip
        self.channelCount = channelCount
        self.inputSampleRate = inputSampleRate
    }

    func serialised() -> [UInt8] {
        var bytes = Self.magic
        bytes.append(version)
        bytes.append(channelCount)
        bytes.appendLittleEndian(preSkip)
        bytes.appendLittleEndian(inputSampleRate)
        bytes.appendLittleEndian(outputGain)
        bytes.append(mappingFamily)
        return bytes
    }

    init(parsing packet: [UInt8]) throws(OggOpusError) {
        guard packet.count >= 19, Array(packet[0..<8]) == Self.magic else {
            throw .notOpus(reason: "first packet is not an OpusHead header")
        }
        version = packet[8]
        guard version >> 4 == 0 else {
            throw .malformedHeader(packet: "OpusHead", reason: "version \(version) is an incompatible major version")
        }
        channelCount = packet[9]
        guard channelCount > 0 else { throw .malformedHeader(packet: "OpusHead", reason: "channel count is zero") }
        preSkip = packet.readLittleEndian(UInt16.self, at: 10)
        inputSampleRate = packet.readLittleEndian(UInt32.self, at: 12)
        outputGain = packet.readLittleEndian(Int16.self, at: 16)
        mappingFamily = packet[18]
        guard mappingFamily == 0 else {
            throw .malformedHeader(
                packet: "OpusHead", reason: "channel mapping family \(mappingFamily) is not supported (Duet reads mono/stereo family 0)")
        }
        guard channelCount <= 2 else {
            throw .malformedHeader(packet: "OpusHead", reason: "family 0 allows 1 or 2 channels, not \(channelCount)")
        }
    }
}

/// The comment header (RFC 7845 §5.2): who wrote the stream and free-form NAME=value tags.
public struct OpusTags: Equatable, Sendable {
    static let magic: [UInt8] = Array("OpusTags".utf8)

    public var vendor: String
    public var comments: [String]

    public init(vendor: String = "Duet", comments: [String] = []) {
        self.vendor = vendor
        self.comments = comments
    }

    func serialised() -> [UInt8] {
        var bytes = Self.magic
        let vendorBytes = Array(vendor.utf8)
        bytes.appendLittleEndian(UInt32(vendorBytes.count))
        bytes += vendorBytes
        bytes.appendLittleEndian(UInt32(comments.count))
        for comment in comments {
            let commentBytes = Array(comment.utf8)
            bytes.appendLittleEndian(UInt32(commentBytes.count))
            bytes += commentBytes
        }
        return bytes
    }

    /// Every length is checked against what is left of the packet before anything is read.
    init(parsing packet: [UInt8]) throws(OggOpusError) {
        guard packet.count >= 8, Array(packet[0..<8]) == Self.magic else {
            throw .notOpus(reason: "second packet is not an OpusTags header")
        }
        var offset = 8
        func length(_ what: String) throws(OggOpusError) -> Int {
            guard packet.count - offset >= 4 else { throw .malformedHeader(packet: "OpusTags", reason: "\(what) length runs past the end") }
            defer { offset += 4 }
            return Int(packet.readLittleEndian(UInt32.self, at: offset))
        }
        func string(_ what: String) throws(OggOpusError) -> String {
            let count = try length(what)
            guard packet.count - offset >= count else {
                throw .malformedHeader(packet: "OpusTags", reason: "\(what) of \(count) bytes runs past the end")
            }
            defer { offset += count }
            return String(decoding: packet[offset..<offset + count], as: UTF8.self)
        }
        vendor = try string("vendor string")
        let count = try length("comment count")
        // Each comment needs at least its 4-byte length: reject absurd counts before allocating.
        guard count <= (packet.count - offset) / 4 else {
            throw .malformedHeader(packet: "OpusTags", reason: "\(count) comments cannot fit in \(packet.count - offset) bytes")
        }
        comments = []
        for index in 0..<count { comments.append(try string("comment \(index)")) }
    }
}
