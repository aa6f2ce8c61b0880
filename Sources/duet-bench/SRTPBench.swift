import CSRTP
import DuetCrypto
import DuetMedia
import DuetWire

/// SRTPSession against libsrtp2 called directly, for both profiles: the wrapper's lock,
/// header check and array handling should cost at most 15% over the bare library.
enum SRTPBench {
    static let payloadLength = 160

    static func run(report: BenchReport) {
        for profile in SRTPProfile.allCases {
            let wrapper = WrappedSRTP(profile: profile)
            let bare = BareSRTP(profile: profile)
            let rounds = Timing().run([wrapper.roundTrip, bare.roundTrip])
            let prefix = profile == .aesCM128HMACSHA1_80 ? "srtp" : "srtp_gcm"
            report.figure("\(prefix)_protect_unprotect_ns", Timing.median(rounds, 0), unit: "ns")
            report.figure("\(prefix)_bare_libsrtp_ns", Timing.median(rounds, 1), unit: "ns")
            report.figure("\(prefix)_wrapper_vs_bare", Timing.medianRatio(rounds, 0, 1), unit: "ratio")
        }
    }

    /// A 20 ms Opus-sized RTP packet; its sequence number is rewritten per iteration.
    static func template(payloadLength: Int = payloadLength) -> [UInt8] {
        var packetizer = RTPPacketizer(ssrc: 0x0D0E_7000, initialSequenceNumber: 0, initialTimestamp: 0)
        return try! packetizer.packetize([UInt8](repeating: 0x5A, count: payloadLength)).serialized()
    }
}

/// Protect + unprotect through `SRTPSession`, reusing one buffer as a real send loop would.
final class WrappedSRTP {
    let sender: SRTPSession
    let receiver: SRTPSession
    let template = SRTPBench.template()
    var packet: [UInt8] = []
    var sequence: UInt16 = 0

    init(profile: SRTPProfile) {
        let key = SecureBytes(randomCount: profile.keyingMaterialLength)
        sender = try! SRTPSession(profile: profile, role: .sender, masterKey: key)
        receiver = try! SRTPSession(profile: profile, role: .receiver, masterKey: key)
        packet.reserveCapacity(template.count + 256)
    }

    func roundTrip() {
        packet.removeAll(keepingCapacity: true)
        packet.append(contentsOf: template)
        sequence &+= 1
        packet[2] = UInt8(sequence >> 8)
        packet[3] = UInt8(sequence & 0xFF)
        do {
            try sender.protect(inPlace: &packet)
            try receiver.unprotect(inPlace: &packet)
        } catch {
            fatalError("bench packet failed: \(error)")
        }
    }
}

/// The same work calling libsrtp2 directly: one aligned buffer, no checks beyond status.
final class BareSRTP {
    var sender: srtp_t?
    var receiver: srtp_t?
    let template = SRTPBench.template()
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 16)
    var sequence: UInt16 = 0

    init(profile: SRTPProfile) {
        // srtp_init must run once per process (a second call re-runs libsrtp's self-tests
        // and fails); SRTPSession owns that, and probing a profile makes one session.
        precondition(profile.isAvailable)
        var key = SecureRandom.bytes(profile.keyingMaterialLength)
        let libsrtpProfile = profile == .aesCM128HMACSHA1_80 ? srtp_profile_aes128_cm_sha1_80 : srtp_profile_aead_aes_128_gcm
        for (type, session) in [(ssrc_any_outbound, \BareSRTP.sender), (ssrc_any_inbound, \BareSRTP.receiver)] {
            var policy = srtp_policy_t()
            _ = srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, libsrtpProfile)
            _ = srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, libsrtpProfile)
            policy.ssrc.type = type
            policy.window_size = 128
            key.withUnsafeMutableBufferPointer { policy.key = $0.baseAddress }
            var created: srtp_t?
            precondition(srtp_create(&created, &policy) == srtp_err_status_ok)
            self[keyPath: session] = created
        }
    }

    deinit {
        srtp_dealloc(sender)
        srtp_dealloc(receiver)
        buffer.deallocate()
    }

    func roundTrip() {
        template.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        sequence &+= 1
        buffer.storeBytes(of: sequence.bigEndian, toByteOffset: 2, as: UInt16.self)
        var length = Int32(template.count)
        precondition(srtp_protect(sender, buffer, &length) == srtp_err_status_ok)
        precondition(srtp_unprotect(receiver, buffer, &length) == srtp_err_status_ok)
    }
}
