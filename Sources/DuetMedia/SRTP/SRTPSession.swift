import CSRTP
import DuetCrypto
import DuetWire
import Synchronization

/// One direction of one SRTP media leg: a libsrtp2 session keyed with one master key ‖ salt.
///
/// A call leg has two: a `.sender` that protects what this device sends and a `.receiver`
/// that unprotects what it receives, each with its own key, because a wildcard SSRC policy
/// in libsrtp can match only one direction. Receivers keep a replay window (default 128
/// packets); senders refuse to protect the same packet index twice. The session owns its
/// `srtp_t` and frees it when released; libsrtp copies the key in `srtp_create`, which reads
/// it straight from the caller's `SecureBytes`, so no other copy of the key is made here.
public final class SRTPSession: @unchecked Sendable {
    /// Which way packets go through this session.
    public enum Role: Sendable, CustomStringConvertible {
        case sender, receiver
        public var description: String { self == .sender ? "sender" : "receiver" }
    }

    /// Bytes libsrtp may write past the packet in `srtp_protect` (SRTP_MAX_TRAILER_LEN: tag
    /// plus MKI; a C macro expression Swift does not import).
    static let maximumTrailerLength = 16 + 128
    /// `srtp_protect_rtcp` also writes the 4-byte SRTCP index.
    static let maximumRTCPTrailerLength = maximumTrailerLength + 4

    public let profile: SRTPProfile
    public let role: Role

    // @unchecked Sendable: libsrtp2 sessions are not thread-safe (protect and unprotect
    // update the stream's replay window and rollover counter), so every use of `session`
    // after init, including `srtp_dealloc`, happens while holding `lock`. The other stored
    // properties are immutable values.
    private let session: OpaquePointer
    private let lock = Mutex<Void>(())

    /// - Parameters:
    ///   - masterKey: the master key ‖ master salt, `profile.keyingMaterialLength` bytes.
    ///   - replayWindow: packets the receiver remembers (64 ..< 32768).
    public init(profile: SRTPProfile = .aesCM128HMACSHA1_80, role: Role, masterKey: SecureBytes, replayWindow: Int = 128) throws(SRTPError)
    {
        try LibSRTP.ready()
        guard masterKey.count == profile.keyingMaterialLength else {
            throw .invalidKeyLength(profile: profile, expected: profile.keyingMaterialLength, actual: masterKey.count)
        }
        guard (64..<0x8000).contains(replayWindow) else { throw .invalidReplayWindow(replayWindow) }

        var policy = srtp_policy_t()  // zero-initialised, as libsrtp requires
        try LibSRTP.check(
            srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, profile.libsrtpProfile), "srtp_crypto_policy_set_from_profile_for_rtp")
        try LibSRTP.check(
            srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, profile.libsrtpProfile),
            "srtp_crypto_policy_set_from_profile_for_rtcp")
        policy.ssrc.type = role == .sender ? ssrc_any_outbound : ssrc_any_inbound
        policy.window_size = UInt(replayWindow)
        policy.allow_repeat_tx = 0
        var session: OpaquePointer?
        let status = masterKey.withUnsafeBytes { key in
            // libsrtp takes a non-const pointer but only reads the key (into its own
            // context, which srtp_dealloc wipes), so the secret is never written through it.
            policy.key = UnsafeMutablePointer(mutating: key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            defer { policy.key = nil }
            return srtp_create(&session, &policy)
        }
        try LibSRTP.check(status, "srtp_create(\(profile))")
        guard let session else { throw .library(operation: "srtp_create(\(profile)) returned no session", code: -1) }
        self.profile = profile
        self.role = role
        self.session = session
    }

    deinit {
        lock.withLock { _ in _ = srtp_dealloc(session) }
    }

    /// Encrypts and authenticates an RTP packet in place, appending the tag.
    /// On error the packet's contents are unspecified.
    public func protect(inPlace packet: inout [UInt8]) throws(SRTPError) {
        guard role == .sender else { throw .wrongDirection(role, operation: "protect") }
        do { _ = try RTPPacket.headerLength(of: packet) } catch { throw .malformedHeader(error) }
        try run(&packet, trailer: Self.maximumTrailerLength, "srtp_protect", srtp_protect)
    }

    /// Verifies and decrypts an SRTP packet in place, removing the tag. The header is
    /// checked before libsrtp sees it, so a header whose CSRC or extension fields point past
    /// the packet is `.malformedHeader` and one that leaves no room for the tag `.tooShort`;
    /// every other alteration is `.authenticationFailed`. On error the contents are unspecified.
    public func unprotect(inPlace packet: inout [UInt8]) throws(SRTPError) {
        guard role == .receiver else { throw .wrongDirection(role, operation: "unprotect") }
        let tag = profile.authenticationTagLength
        guard packet.count >= RTPPacket.fixedHeaderLength + tag else {
            throw .tooShort(length: packet.count, minimum: RTPPacket.fixedHeaderLength + tag)
        }
        let headerLength: Int
        do { headerLength = try RTPPacket.headerLength(of: packet) } catch { throw .malformedHeader(error) }
        guard headerLength + tag <= packet.count else { throw .tooShort(length: packet.count, minimum: headerLength + tag) }
        try run(&packet, trailer: 0, "srtp_unprotect", srtp_unprotect)
    }

    /// `protect(inPlace:)` on a copy, made with room for the trailer so protecting it does not
    /// grow it again (the SFU makes one for every member a packet goes to).
    public func protect(_ packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        var copy: [UInt8] = []
        copy.reserveCapacity(packet.count + Self.maximumTrailerLength)
        copy.append(contentsOf: packet)
        try protect(inPlace: &copy)
        return copy
    }

    /// `unprotect(inPlace:)` on a copy.
    public func unprotect(_ packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        var copy = packet
        try unprotect(inPlace: &copy)
        return copy
    }

    /// SRTCP (RFC 3711 §3.4): encrypts a compound RTCP packet, appending index and tag.
    public func protectRTCP(inPlace packet: inout [UInt8]) throws(SRTPError) {
        guard role == .sender else { throw .wrongDirection(role, operation: "protectRTCP") }
        guard packet.count >= 8 else { throw .tooShort(length: packet.count, minimum: 8) }
        try run(&packet, trailer: Self.maximumRTCPTrailerLength, "srtp_protect_rtcp", srtp_protect_rtcp)
    }

    /// SRTCP: verifies and decrypts, removing index and tag.
    public func unprotectRTCP(inPlace packet: inout [UInt8]) throws(SRTPError) {
        guard role == .receiver else { throw .wrongDirection(role, operation: "unprotectRTCP") }
        let minimum = 8 + 4 + profile.authenticationTagLength
        guard packet.count >= minimum else { throw .tooShort(length: packet.count, minimum: minimum) }
        try run(&packet, trailer: 0, "srtp_unprotect_rtcp", srtp_unprotect_rtcp)
    }

    /// Calls one libsrtp packet function on `packet`, giving it `trailer` spare bytes to
    /// write into and cutting the array to the length libsrtp reports.
    private func run(
        _ packet: inout [UInt8], trailer: Int, _ operation: String,
        _ function: (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> srtp_err_status_t
    ) throws(SRTPError) {
        let length = packet.count
        if trailer > 0 { packet.append(contentsOf: repeatElement(0, count: trailer)) }
        var newLength = Int32(length)
        // Array storage is at least 16-byte aligned, meeting libsrtp's 32-bit alignment rule.
        let status = packet.withUnsafeMutableBytes { bytes in
            lock.withLock { _ in function(session, bytes.baseAddress, &newLength) }
        }
        guard status == srtp_err_status_ok else {
            packet.removeLast(packet.count - length)
            try LibSRTP.check(status, operation)
            return
        }
        packet.removeLast(packet.count - Int(newLength))
    }
}
