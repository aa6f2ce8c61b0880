import CSRTP
import DuetCrypto
import DuetMedia
import DuetServer
import DuetWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The SFU's forwarding rate on one core: rooms of 8 and 32 members, each
/// packet routed to every other member, re-protected per leg and sent with sendto — against
/// a bare loop doing only the unavoidable work (libsrtp unprotect once, then libsrtp protect
/// and sendto per receiver), measured in the same run. Target: `sfu_vs_floor` ≥ 0.8.
enum SFUBench {
    static let rounds = 7
    static let packetsPerMember = 50  // one second of audio from everyone

    static func run(report: BenchReport) {
        let sink = UDPSink()
        var lastRatio = 0.0
        for members in [8, 32] {
            let keys = (0..<members).map { _ in (sending: SecureBytes(randomCount: 30), receiving: SecureBytes(randomCount: 30)) }
            let addresses = (0..<members).map { TransportAddress(ip: [127, 0, 1, UInt8($0 + 1)], port: 5000) }
            let input = makeInput(keys: keys)
            var sfuRates: [Double] = [], floorRates: [Double] = [], ratios: [Double] = []
            for round in 0..<rounds {
                let room = SFURoom()
                for (index, key) in keys.enumerated() {
                    try! room.join("+1555\(index)", address: addresses[index], sendingKey: key.sending, receivingKey: key.receiving)
                }
                let floor = BareForwarder(keys: keys)
                let measure = { (body: () -> Int) -> Double in
                    var forwarded = 0
                    let elapsed = ContinuousClock().measure { forwarded = body() }
                    return Double(forwarded) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
                let sfu = { () -> Int in
                    var count = 0
                    for (member, packet) in input {
                        for delivery in room.route(packet, from: addresses[member], now: 0) {
                            sink.send(delivery.bytes)
                            count += 1
                        }
                    }
                    return count
                }
                let bare = { () -> Int in input.reduce(0) { $0 + floor.forward($1.packet, from: $1.member, sink: sink) } }
                // Alternate which goes first, so neither always runs on a warmer cache.
                let (s, f) =
                    round % 2 == 0
                    ? (measure(sfu), measure(bare))
                    : {
                        let f = measure(bare)
                        return (measure(sfu), f)
                    }()
                sfuRates.append(s)
                floorRates.append(f)
                ratios.append(s / f)
            }
            report.figure("sfu_forward_pps_\(members)", Timing.median(sfuRates), unit: "pps")
            report.figure("sfu_floor_pps_\(members)", Timing.median(floorRates), unit: "pps")
            lastRatio = Timing.median(ratios)
            report.figure("sfu_vs_floor_\(members)", lastRatio, unit: "ratio")
        }
        report.figure("sfu_vs_floor", lastRatio, unit: "ratio")
    }

    /// Each member's second of packets, SFrame-sized payloads, protected with its sending key,
    /// interleaved as they would arrive.
    static func makeInput(keys: [(sending: SecureBytes, receiving: SecureBytes)]) -> [(member: Int, packet: [UInt8])] {
        var perMember: [[[UInt8]]] = []
        for (index, key) in keys.enumerated() {
            let session = try! SRTPSession(role: .sender, masterKey: key.sending)
            var packetizer = RTPPacketizer(ssrc: UInt32(0x5000 + index))
            perMember.append(
                (0..<packetsPerMember).map { _ in
                    try! session.protect(packetizer.packetize([UInt8](repeating: 0x42, count: 90)).serialized())
                })
        }
        return (0..<packetsPerMember).flatMap { n in keys.indices.map { ($0, perMember[$0][n]) } }
    }
}

/// The floor: libsrtp called directly, one inbound and one outbound context per leg.
final class BareForwarder {
    var inbound: [srtp_t?] = []
    var outbound: [srtp_t?] = []
    let plain = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 16)
    let copy = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 16)

    init(keys: [(sending: SecureBytes, receiving: SecureBytes)]) {
        for key in keys {
            inbound.append(Self.context(key.sending, ssrc_any_inbound))
            outbound.append(Self.context(key.receiving, ssrc_any_outbound))
        }
    }

    deinit {
        (inbound + outbound).forEach { srtp_dealloc($0) }
        plain.deallocate()
        copy.deallocate()
    }

    static func context(_ key: SecureBytes, _ type: srtp_ssrc_type_t) -> srtp_t? {
        var policy = srtp_policy_t()
        _ = srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, srtp_profile_aes128_cm_sha1_80)
        _ = srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, srtp_profile_aes128_cm_sha1_80)
        policy.ssrc.type = type
        policy.window_size = 128
        var created: srtp_t?
        key.withUnsafeBytes { bytes in
            policy.key = UnsafeMutablePointer(mutating: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
            precondition(srtp_create(&created, &policy) == srtp_err_status_ok)
        }
        return created
    }

    func forward(_ packet: [UInt8], from member: Int, sink: UDPSink) -> Int {
        packet.withUnsafeBytes { plain.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        var length = Int32(packet.count)
        guard srtp_unprotect(inbound[member], plain, &length) == srtp_err_status_ok else { return 0 }
        var sent = 0
        for receiver in outbound.indices where receiver != member {
            copy.copyMemory(from: plain, byteCount: Int(length))
            var out = length
            guard srtp_protect(outbound[receiver], copy, &out) == srtp_err_status_ok else { continue }
            sink.send(copy, count: Int(out))
            sent += 1
        }
        return sent
    }
}

/// A loopback UDP socket sending to another that never reads: sendto's real cost, nothing more.
final class UDPSink {
    let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    let receiver = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_in()

    init() {
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(Loopback.ipv4)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(receiver, $0, length)
                return getsockname(receiver, $0, &length)
            }
        }
    }

    deinit {
        close(sender)
        close(receiver)
    }

    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { send($0.baseAddress!, count: $0.count) }
    }

    func send(_ bytes: UnsafeRawPointer, count: Int) {
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(sender, bytes, count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}
