/// The RTCP packets Duet sends and reads (RFC 3550 §6.4, RFC 4585 §6): sender and receiver
/// reports for loss, jitter and round-trip time; a picture loss indication asking for a
/// keyframe; a generic NACK naming lost packets to send again; a BYE when a camera goes off.
/// Others in a compound packet are kept as `other` and skipped. Multiplexed with RTP on one
/// port (RFC 5761): a packet whose second byte is 192–223 is RTCP (`isRTCP`).
public enum RTCPPacket: Sendable, Equatable {
    case senderReport(RTCPSenderReport)
    case receiverReport(sender: UInt32, reports: [RTCPReportBlock])
    /// PLI (RFC 4585 §6.3.1): `sender` asks `media`'s sender for a keyframe.
    case pictureLoss(sender: UInt32, media: UInt32)
    /// Generic NACK (RFC 4585 §6.2.1): `sender` lost these sequence numbers of `media`.
    case nack(sender: UInt32, media: UInt32, lost: [UInt16])
    /// BYE (RFC 3550 §6.6): these sources stop sending (a camera turned off); no reason text.
    case goodbye(sources: [UInt32])
    /// Any other type: its packet type, kept so a compound packet still parses.
    case other(type: UInt8)

    public enum ParseError: Error, Equatable, Sendable {
        case truncated
        case badVersion
        /// A length field pointing past the datagram, or a count the length cannot hold.
        case badLength
    }

    static let senderReportType: UInt8 = 200
    static let receiverReportType: UInt8 = 201
    static let goodbyeType: UInt8 = 203
    static let transportFeedbackType: UInt8 = 205
    static let payloadFeedbackType: UInt8 = 206

    /// RFC 5761 §4: RTCP packet types 192–223 sit where RTP's marker bit and payload type would.
    public static func isRTCP(_ datagram: some Collection<UInt8>) -> Bool {
        guard datagram.count >= 2 else { return false }
        let second = datagram[datagram.index(after: datagram.startIndex)]
        return (192...223).contains(second)
    }

    /// A compound packet's bytes (RFC 3550 §6.1; each packet padded to 32 bits by its length).
    public static func encode(_ packets: [RTCPPacket]) -> [UInt8] {
        packets.flatMap(\.encoded)
    }

    /// The packets of a compound packet, in order.
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> [RTCPPacket] {
        var packets: [RTCPPacket] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 4 else { throw .truncated }
            guard bytes[offset] >> 6 == 2 else { throw .badVersion }
            let length = ((Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])) + 1) * 4
            guard offset + length <= bytes.count else { throw .badLength }
            packets.append(try parseOne(Array(bytes[offset..<(offset + length)])))
            offset += length
        }
        guard !packets.isEmpty else { throw .truncated }
        return packets
    }

    private static func parseOne(_ packet: [UInt8]) throws(ParseError) -> RTCPPacket {
        var reader = ByteReader(packet)
        let count = Int(packet[0] & 0x1F), type = packet[1]
        reader.skip(4)
        switch type {
        case senderReportType:
            let sender = try reader.u32()
            let ntp = try UInt64(reader.u32()) << 32 | UInt64(reader.u32())
            let rtp = try reader.u32(), packets = try reader.u32(), octets = try reader.u32()
            let reports = try readReports(count, from: &reader)
            return .senderReport(
                RTCPSenderReport(sender: sender, ntpTime: ntp, rtpTime: rtp, packetCount: packets, octetCount: octets, reports: reports))
        case receiverReportType:
            let sender = try reader.u32()
            return .receiverReport(sender: sender, reports: try readReports(count, from: &reader))
        case transportFeedbackType where count == 1:
            let sender = try reader.u32(), media = try reader.u32()
            var lost: [UInt16] = []
            while reader.remaining >= 4 {
                let first = try reader.u16(), mask = try reader.u16()
                lost.append(first)
                for bit in 0..<16 where mask >> bit & 1 == 1 { lost.append(first &+ UInt16(bit + 1)) }
            }
            return .nack(sender: sender, media: media, lost: lost)
        case payloadFeedbackType where count == 1:
            return .pictureLoss(sender: try reader.u32(), media: try reader.u32())
        case goodbyeType:
            guard reader.remaining >= count * 4 else { throw .badLength }
            var sources: [UInt32] = []
            for _ in 0..<count { sources.append(try reader.u32()) }
            return .goodbye(sources: sources)
        default:
            return .other(type: type)
        }
    }

    private static func readReports(_ count: Int, from reader: inout ByteReader) throws(ParseError) -> [RTCPReportBlock] {
        guard reader.remaining >= count * 24 else { throw .badLength }
        var reports: [RTCPReportBlock] = []
        for _ in 0..<count {
            let source = try reader.u32(), lossWord = try reader.u32()
            let highest = try reader.u32(), jitter = try reader.u32(), lastSR = try reader.u32(), delay = try reader.u32()
            // Cumulative loss is a signed 24-bit number (duplicates can make it negative).
            let cumulative = Int32(bitPattern: (lossWord & 0x00FF_FFFF) << 8) >> 8
            reports.append(
                RTCPReportBlock(
                    source: source, fractionLost: UInt8(lossWord >> 24), cumulativeLost: Int(cumulative), highestSequence: highest,
                    jitter: jitter, lastSenderReport: lastSR, delaySinceLastSenderReport: delay))
        }
        return reports
    }

    /// This packet's bytes.
    public var encoded: [UInt8] {
        var body: [UInt8] = []
        let count: Int, type: UInt8
        switch self {
        case let .senderReport(report):
            (count, type) = (report.reports.count, Self.senderReportType)
            body += bytesOf(report.sender)
            body += bytesOf(UInt32(truncatingIfNeeded: report.ntpTime >> 32))
            body += bytesOf(UInt32(truncatingIfNeeded: report.ntpTime))
            body += bytesOf(report.rtpTime)
            body += bytesOf(report.packetCount)
            body += bytesOf(report.octetCount)
            for block in report.reports { body += block.encoded }
        case let .receiverReport(sender, reports):
            (count, type) = (reports.count, Self.receiverReportType)
            body += bytesOf(sender)
            for block in reports { body += block.encoded }
        case let .pictureLoss(sender, media):
            (count, type) = (1, Self.payloadFeedbackType)
            body += bytesOf(sender)
            body += bytesOf(media)
        case let .nack(sender, media, lost):
            (count, type) = (1, Self.transportFeedbackType)
            body += bytesOf(sender)
            body += bytesOf(media)
            for (first, mask) in Self.nackItems(lost) {
                body += bytesOf(first)
                body += bytesOf(mask)
            }
        case let .goodbye(sources):
            (count, type) = (sources.count, Self.goodbyeType)
            for source in sources.prefix(31) { body += bytesOf(source) }
        case let .other(packetType):
            (count, type) = (0, packetType)
        }
        var packet: [UInt8] = [0x80 | UInt8(min(count, 31)), type]
        packet += bytesOf(UInt16(body.count / 4))
        return packet + body
    }

    /// Lost sequence numbers as NACK items: a packet ID and a bitmask of the 16 after it.
    static func nackItems(_ lost: [UInt16]) -> [(UInt16, UInt16)] {
        var items: [(UInt16, UInt16)] = []
        for sequence in lost {
            let distance = items.last.map { sequence &- $0.0 } ?? 0
            if (1...16).contains(distance) {
                items[items.count - 1].1 |= 1 << (distance - 1)
            } else {
                items.append((sequence, 0))
            }
        }
        return items
    }
}

/// A sender report (RFC 3550 §6.4.1): what `sender` sent, stamped with wall-clock and RTP time.
public struct RTCPSenderReport: Sendable, Equatable {
    public var sender: UInt32
    /// NTP time (seconds since 1900 in the high 32 bits, the fraction in the low).
    public var ntpTime: UInt64
    public var rtpTime: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    public var reports: [RTCPReportBlock]

    public init(sender: UInt32, ntpTime: UInt64, rtpTime: UInt32, packetCount: UInt32, octetCount: UInt32, reports: [RTCPReportBlock] = [])
    {
        self.sender = sender
        self.ntpTime = ntpTime
        self.rtpTime = rtpTime
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reports = reports
    }
}

/// One report block (RFC 3550 §6.4.1): how `source`'s stream arrives here.
public struct RTCPReportBlock: Sendable, Equatable {
    public var source: UInt32
    /// Packets lost since the last report, out of 256.
    public var fractionLost: UInt8
    public var cumulativeLost: Int
    /// The highest sequence number received, with its cycles in the high 16 bits.
    public var highestSequence: UInt32
    /// Interarrival jitter in RTP timestamp units.
    public var jitter: UInt32
    /// The middle 32 bits of the last sender report's NTP time, and the delay since it in
    /// 1/65,536 s: the sender works out the round trip from them.
    public var lastSenderReport: UInt32
    public var delaySinceLastSenderReport: UInt32

    public init(
        source: UInt32, fractionLost: UInt8, cumulativeLost: Int, highestSequence: UInt32, jitter: UInt32, lastSenderReport: UInt32,
        delaySinceLastSenderReport: UInt32
    ) {
        self.source = source
        self.fractionLost = fractionLost
        self.cumulativeLost = cumulativeLost
        self.highestSequence = highestSequence
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes += bytesOf(source)
        let cumulative = UInt32(bitPattern: Int32(clamping: max(-0x80_0000, min(0x7F_FFFF, cumulativeLost)))) & 0x00FF_FFFF
        bytes += bytesOf(UInt32(fractionLost) << 24 | cumulative)
        bytes += bytesOf(highestSequence)
        bytes += bytesOf(jitter)
        bytes += bytesOf(lastSenderReport)
        bytes += bytesOf(delaySinceLastSenderReport)
        return bytes
    }
}

/// Big-endian reads that fail instead of trapping past the end.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func skip(_ count: Int) { offset += count }

    mutating func u16() throws(RTCPPacket.ParseError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(RTCPPacket.ParseError) -> UInt32 {
        let high = try u16(), low = try u16()
        return UInt32(high) << 16 | UInt32(low)
    }
}
